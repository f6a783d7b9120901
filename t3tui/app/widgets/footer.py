"""Textual's Footer, less the keys it keeps after redrawing them.

Each ``FooterKey`` the footer composes binds its ``compact`` to the footer's
(``data_bind``), which puts the key in the footer's list of watchers. Textual drops the
watchers of removed widgets only when the watched value changes, and ``compact`` never
does: the footer recomposes whenever the keys that apply change (several times a turn),
and every key it ever drew stayed in memory with its styles and drawn lines (590 after
40 bursts in ``tests/benchmarks/bench_bursts_memory.py``, about a quarter of the growth).
"""

from __future__ import annotations

from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """The footer, which forgets the keys it removed each time it draws new ones."""

    async def recompose(self) -> None:
        await super().recompose()
        # Textual's own attribute name (reactive._watch): a plain string, not name-mangled.
        for watchers in getattr(self, "__watchers", {}).values():
            watchers[:] = [(node, callback) for node, callback in watchers if node.is_attached]
