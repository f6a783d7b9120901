"""t3tui's own slash commands (``/new``, ``/models``, …): their names and aliases.

They complete after ``/`` beside the server's commands, and run at once when picked or
sent; a server command of the same name is left out of the list.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OwnCommand:
    name: str
    aliases: tuple[str, ...] = ()

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
