"""The screen t3tui opens on: it owns the layout, and names its widgets for the rest of the app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from textual import events, getters, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widget import AwaitMount, MountError, Widget
from textual.widgets import Input, Markdown

from t3tui.app.screens.base import LocalizedScreen
from t3tui.app.widgets.completion import Completion
from t3tui.app.widgets.footer import Footer
from t3tui.app.widgets.plain_text import PlainText
from t3tui.app.widgets.prompt import PromptArea
from t3tui.app.widgets.request_panels import PermissionPanel, QuestionPanel
from t3tui.app.widgets.sidebar import FilterInput, Sidebar
from t3tui.app.widgets.thread_view import ThreadView
from t3tui.app.widgets.work_panel import FileList, WorkPanel
from t3tui.i18n import t
from t3tui.state.store import Thread

MARKDOWN_SAMPLE = "A **paragraph** with `code`.\n\n- an item\n\n```python\nx = 1\n```\n\n# A heading\n"

if TYPE_CHECKING:
    from t3tui.app.app import T3App
    from t3tui.app.controllers.thread_list import ThreadList


class MainScreen(LocalizedScreen[None]):
    """The status line and banner; the sidebar beside the thread, its request panels and the prompt."""

    CSS_PATH = "main.tcss"

    status_line = getters.query_one("#status", PlainText)
    banner = getters.query_one("#banner", PlainText)
    sidebar = getters.query_one(Sidebar)
    side = getters.query_one("#side", Vertical)
    sidebar_filter = getters.query_one("#sidebar-filter", FilterInput)
    thread_view = getters.query_one(ThreadView)
    permission = getters.query_one(PermissionPanel)
    question = getters.query_one(QuestionPanel)
    hint = getters.query_one("#hint", PlainText)
    completion = getters.query_one(Completion)
    prompt = getters.query_one(PromptArea)
    work_panel = getters.query_one(WorkPanel)

    def __init__(
        self,
        clock: Callable[[], float],
        prompt_history: list[str],
        *,
        cursor_blink: bool,
        started: Callable[[], Awaitable[None]],
    ) -> None:
        """``started`` runs once the widgets exist (the app loads the draft and the thread)."""
        super().__init__()
        self.clock = clock
        self.prompt_history = prompt_history
        self.cursor_blink = cursor_blink
        self._started = started

    def compose(self) -> ComposeResult:
        yield PlainText("", id="status")
        yield PlainText("", id="banner")
        with Horizontal(id="body"):
            with Vertical(id="side"):
                yield FilterInput(placeholder=t("sidebar.filter_placeholder"), id="sidebar-filter")
                yield Sidebar(self.clock, id="sidebar")
            with Vertical(id="main"):
                yield ThreadView(self.clock, id="thread")
                yield PermissionPanel(id="permission")
                yield QuestionPanel(id="question")
                yield PlainText("", id="hint")
                yield Completion(id="completion")
                yield PromptArea(self.prompt_history, id="prompt")
            yield WorkPanel(id="work")
        yield Footer()

    async def on_mount(self) -> None:
        if not self.ready:
            return  # the app is quitting: nothing was mounted (see mount)
        self.prompt.cursor_blink = self.cursor_blink
        self.prompt.focus()
        self.permission.display = False
        self.question.display = False
        self.banner.display = False
        self.completion.display = False
        self.sidebar_filter.display = False
        self.work_panel.display = False
        cast("T3App", self.app).work.fit(self.size.width)  # shown on a wide terminal
        await self._started()

    def mount(
        self,
        *widgets: Widget,
        before: int | str | Widget | None = None,
        after: int | str | Widget | None = None,
    ) -> AwaitMount:
        """Mount, or nothing once the app is quitting.

        This screen composes and starts before the app has finished its own start (the
        app mounts its screen's widgets last). A quit asked in between, a SIGTERM or
        Ctrl+Q in the first moments, made Textual's mount raise MountError, and the app
        ended with a traceback and exit code 1 instead of the quit's code.
        """
        try:
            return super().mount(*widgets, before=before, after=after)
        except MountError:
            if self.is_attached:
                raise
            return AwaitMount(self, [])

    async def warm_markdown(self) -> None:
        """Render a hidden Markdown sample once, soon after start.

        The first Markdown a Textual app renders pays for imports, the parser and style
        lookups (about 30 ms more than later ones): paid here, while idle, rather than
        in the middle of the first streamed reply.
        """
        if not self.ready:
            return  # already quitting
        sample = Markdown("", classes="warmup")
        sample.display = False
        try:
            await self.mount(sample)
        except MountError:
            return  # the app began to quit meanwhile
        try:
            stream = Markdown.get_stream(sample)
            await stream.write(MARKDOWN_SAMPLE)
            await stream.stop()
        finally:
            await sample.remove()

    @property
    def ready(self) -> bool:
        """The widgets exist: not while starting, nor while shutdown removes them (a
        repaint can come at either time)."""
        if not self.is_attached:
            return False
        try:  # query_one is cached by Textual; a query of the whole DOM was not (called per frame)
            return self.sidebar.is_attached and self.status_line.is_attached
        except NoMatches:
            return False

    def localize(self) -> None:
        super().localize()
        for prompt in self.query(PromptArea):  # none if the app quit before they mounted
            prompt.placeholder = t("prompt.shell_placeholder" if prompt.shell else "prompt.placeholder")
        for box in self.query("#sidebar-filter").results(Input):
            box.placeholder = t("sidebar.filter_placeholder")

    async def retranslate(self, thread: Thread | None, empty_text: str) -> None:
        """The language changed: draw again what was drawn in the old one."""
        self.sidebar.redraw()
        self.work_panel.redraw()
        await self.thread_view.show_thread(thread, empty_text)
        permission, question = self.permission.request, self.question.request
        self.permission.request = self.question.request = None
        if permission is not None:
            self.permission.show_request(permission)
        if question is not None:
            self.question.show_request(question)

    # -- focus --------------------------------------------------------------------------

    def toggle_focus(self) -> None:
        """Between the sidebar and the prompt (a hidden sidebar shows again)."""
        if self.side.has_focus_within:
            self.prompt.focus()
        else:
            self.side.display = True
            self.sidebar.focus()

    def show_panel(self, panel: Any, request: Any, focus: Callable[[], object]) -> None:
        """Show a request in its panel (focused when it appears), or hide the panel."""
        if request is not None:
            panel.show_request(request)
            if not panel.display:
                panel.display = True
                focus()
        elif panel.display:
            panel.display = False
            panel.request = None
            self.refocus_prompt()

    def refocus_prompt(self) -> None:
        """The focus went with a hidden widget: give it back to the prompt."""
        focused = self.focused
        if focused is None or not all(node.display for node in focused.ancestors_with_self):
            self.prompt.focus()

    # -- the sidebar's filter (ThreadList does the work) ----------------------------------

    @property
    def _thread_list(self) -> ThreadList:
        return cast("T3App", self.app).thread_list

    @on(Sidebar.FilterTyped)
    def _filter_typed(self, event: Sidebar.FilterTyped) -> None:
        self._thread_list.typed(event.character)

    @on(Input.Changed, "#sidebar-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._thread_list.changed(event.value)

    @on(Input.Submitted, "#sidebar-filter")
    async def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        await self._thread_list.submitted()

    @on(FilterInput.Cleared)
    def _filter_cleared(self) -> None:
        self._thread_list.clear()

    @on(FilterInput.ToList)
    def _filter_to_list(self) -> None:
        self.sidebar.focus()

    # -- the work panel (controllers/work.py does the work) ---------------------------------

    def on_resize(self, event: events.Resize) -> None:
        if self.ready:
            cast("T3App", self.app).work.fit(event.size.width)

    @on(WorkPanel.FileChosen)
    def _file_chosen(self, event: WorkPanel.FileChosen) -> None:
        cast("T3App", self.app).work.chosen(event.file)

    @on(FileList.Leave)
    def _work_left(self) -> None:
        self.prompt.focus()

    @on(PromptArea.ScrollThread)
    def _scroll_thread(self, event: PromptArea.ScrollThread) -> None:
        view = self.thread_view
        if event.direction == 2:
            view.scroll_end(animate=False)
        elif event.direction < 0:
            view.scroll_page_up(animate=False)
        else:
            view.scroll_page_down(animate=False)
