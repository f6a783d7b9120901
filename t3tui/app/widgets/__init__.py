"""The widgets of the main screen, one per module; they render the store and never parse the protocol."""
