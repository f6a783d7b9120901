"""Finished text drawn with Rich, looking like the streamed text Textual's Markdown draws.

A reply streams into Textual's ``Markdown`` widget, and once settled it is drawn with
Rich's ``Markdown`` (far cheaper for long threads). Rich draws tables without borders,
Textual with a grid: the same table changed its look when its turn ended. Here tables
get a grid like Textual's, so one turn has one look.
"""

from __future__ import annotations

from typing import ClassVar

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import Markdown, MarkdownElement, TableElement
from rich.table import Table


class GridTable(TableElement):
    """A Markdown table with the grid, padding and header colour of Textual's."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = Table(
            box=box.SQUARE,
            show_lines=True,
            border_style="bright_black",
            header_style="blue",
            expand=True,
            padding=(0, 1),
        )
        if self.header is not None and self.header.row is not None:
            for column in self.header.row.cells:
                table.add_column(column.content.copy())
        if self.body is not None:
            for row in self.body.rows:
                table.add_row(*(cell.content for cell in row.cells))
        yield table


class ThreadMarkdown(Markdown):
    """Rich's Markdown with :class:`GridTable` tables."""

    elements: ClassVar[dict[str, type[MarkdownElement]]] = {**Markdown.elements, "table_open": GridTable}
