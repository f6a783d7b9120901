"""t3tui: a terminal client for coding-agent threads on opencode servers."""

__version__ = "0.1.0"
