"""The app's screens: the main screen, the connection screens, the providers and the dialogs."""
