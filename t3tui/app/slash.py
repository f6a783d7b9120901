"""t3tui's own slash commands (``/new``, ``/models``, …): names, aliases, and which are built yet.

They complete after ``/`` beside the server's commands, and run at once when picked or
sent. A command whose feature comes with a later issue is listed, and says so when run,
rather than reaching the model as a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OwnCommand:
    name: str
    aliases: tuple[str, ...] = ()
    ready: bool = True  # False: listed, but it says that it is not built yet

    @property
    def help_key(self) -> str:
        """The catalog key of its one-line description."""
        return f"slash.{self.name}"


OWN_COMMANDS = (
    OwnCommand("new", ("clear",)),
    OwnCommand("undo"),
    OwnCommand("redo"),
    OwnCommand("fork"),
    OwnCommand("compact", ("summarize",)),
    OwnCommand("models"),
    OwnCommand("agents"),
    OwnCommand("variants"),
    OwnCommand("rename"),
    OwnCommand("export"),
    OwnCommand("copy"),
    OwnCommand("details", ("thinking",)),
    OwnCommand("timestamps", ("toggle-timestamps",)),
    OwnCommand("editor"),
    OwnCommand("theme", ("themes",)),
    OwnCommand("lang", ("language",)),
    OwnCommand("providers", ("connect",)),
    OwnCommand("help"),
    OwnCommand("quit", ("exit", "q")),
)

_BY_NAME = {name: cmd for cmd in OWN_COMMANDS for name in (cmd.name, *cmd.aliases)}


def own_command(name: str) -> OwnCommand | None:
    """t3tui's command called ``name`` (or by an alias of it)."""
    return _BY_NAME.get(name)
