"""The sidebar's "Needs you" group: threads asking first, then failed unseen, then done
unseen, before the directories; the usual order when it is off; the toggle remembered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ui_support as ui
from eventgen import (
    assistant_info,
    ev,
    idle,
    msg_updated,
    permission_asked,
    prompt_run,
    question_asked,
    session_error,
    session_updated,
)

from t3tui.app.app import T3App
from t3tui.app.commands import palette_commands
from t3tui.app.controllers.attention import AttentionSettings
from t3tui.app.widgets.sidebar import ordered_threads
from t3tui.i18n import t
from t3tui.state.store import Store

BG = "ses_1fd0000000aaBackgroundThread"
BG2 = "ses_1fd0000000bbAnotherBackgrnd"
FAIL = "ses_1fd0000000eeFailingTestsRun"
DONE = "ses_1fd0000000ffDocsRewriteDone"
QUIET = "ses_1fd0000000a0AnOldIdeaResting"
OTHER = "/home/dev/other"


def sidebar_store() -> Store:
    """Six threads in two directories: the one on screen, two that will ask, two running
    that will fail and finish while another is open, and one long finished."""
    lines: list[dict[str, Any]] = []
    for sid, title, directory, finish in (
        (ui.SID, "On screen", "/home/dev/project", True),
        (BG, "Background build", "/home/dev/project", False),
        (BG2, "Other project", OTHER, False),
        (FAIL, "Failing tests", OTHER, False),
        (DONE, "Docs rewrite", "/home/dev/project", False),
        (QUIET, "An old idea", "/home/dev/project", True),
    ):
        _, _, _, run = prompt_run(sid, title.lower(), tokens=1, finish=finish, directory=directory)
        lines += [session_updated(sid, title=title, directory=directory), *run]
    return ui.make_store(lines)


def need_you(app: T3App) -> None:
    """What happens while the user looks at their thread: two requests, a failure, a finish."""
    link = app.link
    link.observe(permission_asked(BG, "per_1"))
    link.observe(question_asked(BG2, "que_1", directory=OTHER))
    link.observe(session_error(FAIL, "APIError", "tests exploded", directory=OTHER))
    for obs in idle(FAIL, directory=OTHER):
        link.observe(obs)
    th = link.store.threads[DONE]
    turn = th.turns[th.order[-1]]
    link.observe(msg_updated(assistant_info(DONE, turn.assistant[0], turn.id, finish="stop", completed=True)))
    for obs in idle(DONE):
        link.observe(obs)


def prompts(app: T3App) -> list[str]:
    sidebar = app.main.sidebar
    return [str(sidebar.get_option_at_index(i).prompt) for i in range(sidebar.option_count)]


async def test_off_the_sidebar_keeps_its_order() -> None:
    app = ui.make_app(sidebar_store())
    async with app.run_test(size=(110, 40)) as pilot:
        await ui.wait_for(pilot, app, lambda: len(app.main.sidebar.thread_ids) == 6)
        need_you(app)
        await ui.wait_for(pilot, app, lambda: {FAIL, DONE} <= app.threads.unseen)
        assert t("sidebar.attention") not in prompts(app)
        usual = [th.id for _, items in ordered_threads(app.link.store.threads.values()) for _, th in items]
        assert app.main.sidebar.thread_ids == usual


async def test_on_the_threads_that_need_you_come_first() -> None:
    app = ui.make_app(sidebar_store(), attention=AttentionSettings(attention_first=True))
    async with app.run_test(size=(110, 40)) as pilot:
        await ui.wait_for(pilot, app, lambda: len(app.main.sidebar.thread_ids) == 6)
        # Nothing needs the user yet: no group.
        assert t("sidebar.attention") not in prompts(app)
        need_you(app)
        sidebar = app.main.sidebar
        await ui.wait_for(pilot, app, lambda: sidebar.thread_ids[:4] == [BG, BG2, FAIL, DONE])
        assert prompts(app)[0] == t("sidebar.attention")
        # Each thread once; the rest by directory as before.
        assert len(sidebar.thread_ids) == len(set(sidebar.thread_ids)) == 6
        assert sorted(sidebar.thread_ids[4:]) == sorted([ui.SID, QUIET])
        rows = prompts(app)
        assert rows[1].startswith("  Background build\n    ⚠ needs permission\n    /home/dev/project")
        assert rows[3].startswith("  Failing tests\n    ✕ error\n    /home/dev/other")
        # The permission answered (elsewhere), the finish seen: they leave the group.
        app.link.observe(ev("permission.replied", {"sessionID": BG, "requestID": "per_1", "reply": "once"}))
        await app.threads.open(DONE)
        await ui.wait_for(pilot, app, lambda: sidebar.thread_ids[:2] == [BG2, FAIL])
        assert BG in sidebar.thread_ids[2:] and DONE in sidebar.thread_ids[2:]


async def test_the_toggle_is_in_the_palette_and_remembered(tmp_path: Path) -> None:
    app = ui.make_app(sidebar_store(), state_dir=tmp_path)
    async with app.run_test(size=(110, 40)) as pilot:
        await ui.wait_for(pilot, app, lambda: len(app.main.sidebar.thread_ids) == 6)
        need_you(app)
        await ui.wait_for(pilot, app, lambda: app.attention.pending())
        [command] = [c for c in palette_commands(app) if c.title == t("cmd.attention_first")]
        command.callback()
        await ui.wait_for(pilot, app, lambda: prompts(app)[0] == t("sidebar.attention"))
        await ui.wait_for(pilot, app, lambda: t("toast.attention_first_on") in ui.toasts(app))
    assert (tmp_path / "attention.json").read_text(encoding="utf-8") == '{"first": true}'
    again = ui.make_app(sidebar_store(), state_dir=tmp_path)
    assert again.attention.first is True
    # The config, when it says, wins at start.
    configured = ui.make_app(
        sidebar_store(), state_dir=tmp_path, attention=AttentionSettings(attention_first=False)
    )
    assert configured.attention.first is False
    async with again.run_test(size=(110, 40)) as pilot:
        await ui.wait_for(pilot, again, lambda: len(again.main.sidebar.thread_ids) == 6)
        need_you(again)
        await ui.wait_for(pilot, again, lambda: prompts(again)[0] == t("sidebar.attention"))
        command = next(c for c in palette_commands(again) if c.title == t("cmd.attention_first"))
        command.callback()
        await ui.wait_for(pilot, again, lambda: t("sidebar.attention") not in prompts(again))
    assert (tmp_path / "attention.json").read_text(encoding="utf-8") == '{"first": false}'
