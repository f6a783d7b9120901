"""An OptionList for lists redrawn often: the sidebar's threads.

Textual's OptionList measures every row with Rich each time a row changes, and draws
every row on screen again after a change or a rebuild (0.3-0.4 ms a row measured, 1-3 ms
a row drawn: a new session with 3,000 threads cost the UI 50-60 ms). :class:`RowList`
counts a row's lines when each fits the width, keeps each label's drawn lines across
rebuilds (a label that did not change is the same object), and draws again only the
lines of a row whose label changed. tests/test_sidebar_order.py checks its line map
against Textual's.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.style import Style
from textual.visual import Padding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

DRAWN = 1024  # labels' drawn lines kept (a few screens of rows, in each of their styles)


def line_count(prompt: Any, width: int) -> int | None:
    """The lines a label takes at ``width``, if each of its lines fits (None: measure it)."""
    if not isinstance(prompt, Text) or width <= 0:
        return None
    lines = prompt.plain.split("\n")
    if any(cell_len(line) > width for line in lines):
        return None
    return len(lines)


class RowList(OptionList):
    """An OptionList whose rows are counted, not measured, and drawn again only when changed."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        # (id of a label, style, padding, width) -> (the label, its lines without the row's index)
        self._drawn: LRUCache[tuple[Any, ...], tuple[Any, list[Strip]]] = LRUCache(DRAWN)

    def _replace(self, at: int, label: Text) -> None:
        """Row ``at`` shows ``label``: only its lines are drawn again when its height is the
        same (OptionList's own replace drew every row on screen again, 40-100 ms)."""
        option = self._options[at]
        height = self._line_cache.heights.get(at)
        option._set_prompt(label)
        room = self.scrollable_content_region.width - self._get_left_gutter_width()
        room -= self.get_component_styles("option-list--option").padding.width
        if height is None or line_count(label, room) != height - option._divider:
            self._clear_caches()  # rows move: the line map is made again
            return
        line = self._line_cache.index_to_line.get(at)
        if line is not None:
            self.refresh(Region(0, line - self.scroll_offset.y, self.size.width, height))

    def _update_lines(self) -> None:
        """OptionList's line map, without measuring each row with Rich: a label's lines
        are cut to the width (see ``Sidebar._row``), so its height is its count of lines. Textual
        measured every row at each change (0.3-0.4 ms a row: 100 ms for 300 rows); a
        label with a line too long for the width is still measured (tests/test_sidebar_order.py
        checks the map against Textual's)."""
        if not self.scrollable_content_region:
            return
        cache = self._line_cache
        lines = cache.lines
        options = self.options
        start = lines[-1][0] + 1 if lines else 0
        width = self.scrollable_content_region.width - self._get_left_gutter_width()
        if start < len(options):
            padding = self.get_component_styles("option-list--option").padding
            room = width - padding.width
            for index in range(start, len(options)):
                option = options[index]
                cache.index_to_line[index] = len(lines)
                count = line_count(option.prompt, room)
                if count is None:
                    count = self._get_visual(option).get_height(self.styles, room)
                count += option._divider
                cache.heights[index] = count
                lines.extend([(index, line) for line in range(count)])
        last_divider = bool(options) and options[-1]._divider
        size = Size(width, len(lines) - (1 if last_divider else 0))
        if size != self.virtual_size:
            self.virtual_size = size
            self._scroll_update(size)

    def _get_option_render(self, option: Option, style: Style) -> list[Strip]:
        """A row's lines: those of its label drawn before in this style and width (a row
        rebuilt with the same label is not drawn again), with the row's index put in."""
        if option._divider:
            return super()._get_option_render(option, style)
        padding = self.get_component_styles("option-list--option").padding
        width = self.scrollable_content_region.width - self._get_left_gutter_width()
        prompt = option.prompt
        key = (id(prompt), style, padding, width)
        hit = self._drawn.get(key)
        if hit is None or hit[0] is not prompt:  # an id is reused only once its label is gone
            visual = self._get_visual(option)
            if padding:
                visual = Padding(visual, padding)
            strips = visual.to_strips(self, visual, width, None, style)
            hit = (prompt, [strip.extend_cell_length(width, style.rich_style) for strip in strips])
            self._drawn.set(key, hit)
        meta = {"option": self._option_to_index[option]}
        return [strip.apply_meta(meta) for strip in hit[1]]

    def _reveal(self) -> None:
        """Scroll to the highlighted row, with its directory's header if it is the first."""
        index = self.highlighted
        if index is None or not self.is_mounted:
            return
        self._update_lines()
        first = index
        while first > 0 and self.options[first - 1].disabled:
            first -= 1
        try:
            top = self._index_to_line[first]
            bottom = self._index_to_line[index] + self._heights[index]
        except KeyError:
            return
        if bottom - top > self.scrollable_content_region.height:
            top = self._index_to_line[index]
        region = Region(0, top, self.scrollable_content_region.width, bottom - top)
        self.scroll_to_region(region, force=True, animate=False, immediate=True)
