"""The app's keys: every binding has an ``id`` (the config remaps keys by id) and a translated label."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from textual.binding import Binding
from textual.dom import DOMNode

from t3tui.i18n import t

# Descriptions are catalog keys here; relabel() puts the text in the user's language.
APP_BINDINGS = [
    Binding("ctrl+n", "new_thread", "bind.new_thread", id="new_thread"),
    Binding("alt+up", "prev_thread", "bind.prev_thread", id="prev_thread", show=False),
    Binding("alt+down", "next_thread", "bind.next_thread", id="next_thread"),
    Binding("ctrl+b", "toggle_focus", "bind.toggle_focus", id="toggle_focus", show=False),
    # As opencode's session list (its <leader>l): every thread, filtered as you type.
    Binding("ctrl+l", "switch_thread", "bind.switch_thread", id="switch_thread", show=False),
    Binding("f4", "toggle_sidebar", "bind.toggle_sidebar", id="toggle_sidebar", show=False),
    # In the footer when the terminal is wide enough for the panel (controllers/work.py).
    Binding("f12", "work_panel", "bind.work_panel", id="work_panel", show=False),
    Binding("escape", "interrupt", "bind.interrupt", id="interrupt"),
    # Priority: the picker opens before the keys typed right after Ctrl+O are handed on
    # (else a fast typist's filter lands in the prompt).
    Binding("ctrl+o", "choose_model", "bind.choose_model", id="choose_model", priority=True),
    Binding("f2", "providers", "bind.providers", id="providers"),
    Binding("f5", "copy_reply", "bind.copy", id="copy"),
    # Priority: the prompt (a TextArea) would take F6 for "select the line".
    Binding("f6", "toggle_details", "bind.details", id="details", show=False, priority=True),
    # The diff of the edit card clicked last, else the whole thread's (controllers/diffs.py).
    # Priority: the prompt (a TextArea) would take F7 for "select all".
    Binding("f7", "show_diff", "bind.diff", id="diff", show=False, priority=True),
    Binding("f8", "fork_thread", "bind.fork", id="fork", show=False),
    # As opencode's child-session keys: into a task card's subagent (its siblings in turn),
    # and back to the parent. Shown only when there is somewhere to go.
    Binding("alt+right", "enter_subagent", "bind.subagent", id="subagent"),
    Binding("alt+left", "leave_subagent", "bind.parent", id="parent"),
    # Shown while a permission or question waits in any thread (see T3App.check_action).
    Binding("f9", "cockpit", "bind.cockpit", id="cockpit"),
    Binding("ctrl+p", "command_palette", "bind.palette", id="palette", show=False, priority=True),
    Binding("f1", "toggle_keys", "bind.keys", id="keys", show=False),
    Binding("ctrl+q", "quit", "bind.quit", id="quit", priority=True),
]


def relabel(node: DOMNode, labels: Mapping[str, str] | None = None) -> None:
    """Give every binding of ``node`` that has an ``id`` its description in the current
    language: the catalog's ``bind.<id>``, or the catalog key ``labels`` names for that id
    (Esc reads "Esc again to interrupt" while armed).

    Textual has no public way to change a binding's description once the node exists
    (``BINDINGS`` are read once per class, and the footer and the keys panel read each
    node's own bindings map), and the language can change while the app runs: this is
    the one place that writes there. The tooltip is emptied so the keys panel does not
    show the description twice.
    """
    labels = labels or {}
    bindings = node._bindings.key_to_bindings
    for key, items in bindings.items():
        bindings[key] = [
            replace(b, description=t(labels.get(b.id, f"bind.{b.id}")), tooltip="") if b.id else b
            for b in items
        ]


def relabel_tree(root: DOMNode) -> None:
    """:func:`relabel` a node and every node under it (the widgets with keys of their own)."""
    relabel(root)
    for node in root.query("*"):
        relabel(node)


def show(node: DOMNode, binding_id: str, shown: bool) -> None:
    """Show the binding ``binding_id`` of ``node`` in the footer, or not (a key the footer
    has room for only on a wide terminal); it works either way."""
    bindings = node._bindings.key_to_bindings
    for key, items in bindings.items():
        bindings[key] = [replace(b, show=shown) if b.id == binding_id else b for b in items]
