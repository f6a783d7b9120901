"""The Textual app. Imported only when the app runs (``replay`` stays Textual-free)."""
