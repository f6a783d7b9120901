"""The prompt a daily opencode user expects, driven by keys against a scripted server:
``@`` completion attaches files as opencode sends them, ``/`` completes and runs commands
(an unknown ``/word`` is sent only when confirmed), ``!`` runs a shell command, and Tab
cycles the agent that each prompt is sent with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import ui_support as ui
from eventgen import DIR, session_updated
from sse_server import Reply, Request, Script, SSEServer
from textual.pilot import Pilot
from ui_support import toasts, wait_for

from t3tui.app.app import T3App
from t3tui.app.screens.dialogs import ConfirmScreen
from t3tui.opencode.client import OpencodeClient
from t3tui.state.prompt import agents_from, commands_from

SIZE = (110, 32)
SID = ui.SID

AGENTS = [
    {"name": "build", "description": "The default agent.", "mode": "primary", "native": True},
    {"name": "compaction", "mode": "primary", "hidden": True},
    {"name": "explore", "description": "Fast codebase search.", "mode": "subagent"},
    {"name": "general", "description": "General-purpose agent.", "mode": "subagent"},
    {"name": "plan", "description": "Plan mode. Disallows all edit tools.", "mode": "primary"},
    {"name": "title", "mode": "primary", "hidden": True},
    "not an agent",
    {"mode": "primary"},
]
COMMANDS = [
    {"name": "init", "description": "guided AGENTS.md setup", "source": "command", "template": "…"},
    {"name": "review", "description": "review changes", "source": "command", "template": "…"},
    {"name": "customize-opencode", "description": "a skill", "source": "skill", "template": "…"},
    {"name": "mycmd", "description": "My custom cmd", "source": "command", "template": "Do $ARGUMENTS"},
]
FILES = ["src/", "src/main.py", "src/sub/", "src/sub/util.py", "README.md"]


def find(req: Request) -> list[str]:
    """A fuzzy-enough stand-in for GET /find/file: paths containing the query."""
    query = req.query.get("query", "")
    return [p for p in FILES if query.lower() in p.lower()]


def scripted() -> SSEServer:
    server = SSEServer(default=Script(ending="heartbeat"))
    server.rest.update(
        {
            "/agent": AGENTS,
            "/command": COMMANDS,
            "/find/file": find,
            f"/session/{SID}/prompt_async": None,
            f"/session/{SID}/command": {"info": {}, "parts": []},
            f"/session/{SID}/shell": {"info": {}, "parts": []},
        }
    )
    return server


def app_on(server: SSEServer, **kw: Any) -> T3App:
    store = ui.make_store([session_updated(SID, title="A thread")])
    return ui.make_app(store, connect=True, client=OpencodeClient(server.url), **kw)


def bodies(server: SSEServer, suffix: str) -> list[Any]:
    return [r.json() for r in server.requests if r.method == "POST" and r.path.endswith(suffix)]


async def ready(pilot: Pilot[Any], app: T3App) -> None:
    """Connected, with the server's agents and commands loaded."""
    await wait_for(pilot, app, lambda: app.agents.of(app.link) and app.composer.server_commands(app.link))


def rows(app: T3App) -> list[str]:
    return [item.label for item in app.main.completion.items] if app.main.completion.open else []


async def test_at_completes_files_and_the_prompt_carries_the_file_part() -> None:
    async with scripted() as server:
        app = app_on(server)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot, app)
            await pilot.press(*"look at @main")
            await wait_for(pilot, app, lambda: "@src/main.py" in rows(app))
            assert server.paths("/find/file")[-1].query["query"] == "main"
            assert server.paths("/find/file")[-1].query["directory"] == DIR
            await pilot.press("enter")  # picks it, does not send
            assert app.main.prompt.text == "look at @src/main.py "
            assert not app.main.completion.open
            await pilot.press(*"please", "enter")
            await wait_for(pilot, app, lambda: bodies(server, "/prompt_async"))
            body = bodies(server, "/prompt_async")[0]
            assert body["parts"][0] == {"type": "text", "text": "look at @src/main.py please"}
            assert body["parts"][1] == {
                "type": "file",
                "mime": "text/plain",
                "filename": "src/main.py",
                "url": f"file://{DIR}/src/main.py",
                "source": {
                    "type": "file",
                    "path": "src/main.py",
                    "text": {"start": 8, "end": 20, "value": "@src/main.py"},
                },
            }
            assert body["agent"] == "build"


async def test_a_line_range_and_a_directory_tab_goes_into_it() -> None:
    async with scripted() as server:
        app = app_on(server)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot, app)
            await pilot.press(*"@util#20-45")
            await wait_for(pilot, app, lambda: "@src/sub/util.py" in rows(app))
            await pilot.press("tab")  # a file: Tab picks it too
            assert app.main.prompt.text == "@src/sub/util.py#20-45 "
            await pilot.press(*"and @sub")
            await wait_for(pilot, app, lambda: rows(app)[:1] == ["@src/sub/"])
            await pilot.press("tab")  # a directory: Tab goes into it, the list stays open
            assert app.main.prompt.text.endswith("and @src/sub/")
            await wait_for(pilot, app, lambda: "@src/sub/util.py" in rows(app))
            await pilot.press("escape")  # closes the list; the text stays
            assert not app.main.completion.open
            assert app.main.prompt.text.endswith("and @src/sub/")
            await pilot.press("enter")
            await wait_for(pilot, app, lambda: bodies(server, "/prompt_async"))
            parts = bodies(server, "/prompt_async")[0]["parts"]
            files = [p for p in parts if p["type"] == "file"]
            assert files[0]["url"] == f"file://{DIR}/src/sub/util.py?start=20&end=45"
            assert files[0]["filename"] == "src/sub/util.py#20-45"
            # Typed, not picked, but the server finds it: attached as a directory.
            assert files[1]["mime"] == "application/x-directory"
            assert files[1]["url"] == f"file://{DIR}/src/sub/"


async def test_an_at_word_the_server_does_not_know_stays_text() -> None:
    async with scripted() as server:
        app = app_on(server)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot, app)
            await pilot.press(*"mail me@example.org or @nosuchfile", "escape")
            await pilot.press("enter")
            await wait_for(pilot, app, lambda: bodies(server, "/prompt_async"))
            parts = bodies(server, "/prompt_async")[0]["parts"]
            assert parts == [{"type": "text", "text": "mail me@example.org or @nosuchfile"}]


async def test_slash_lists_own_and_server_commands_and_runs_a_server_command() -> None:
    async with scripted() as server:
        app = app_on(server)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot, app)
            await pilot.press("/")
            await wait_for(pilot, app, lambda: "/init" in rows(app))
            assert "/undo" in rows(app) and "/mycmd" in rows(app)
            assert "/customize-opencode" not in rows(app)  # skills are not listed
            await pilot.press(*"myc")
            await wait_for(pilot, app, lambda: rows(app)[:1] == ["/mycmd"])
            await pilot.press("enter")
            assert app.main.prompt.text == "/mycmd "
            await pilot.press(*"alpha beta", "enter")
            await wait_for(pilot, app, lambda: bodies(server, "/command"))
            body = bodies(server, "/command")[0]
            assert body["command"] == "mycmd"
            assert body["arguments"] == "alpha beta"
            assert body["agent"] == "build"
            assert not bodies(server, "/prompt_async")


async def test_an_unknown_slash_word_is_sent_only_when_confirmed() -> None:
    async with scripted() as server:
        app = app_on(server)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot, app)
            await pilot.press(*"/frobnicate now", "enter")
            await wait_for(pilot, app, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("n")
            await wait_for(pilot, app, lambda: not isinstance(app.screen, ConfirmScreen))
            assert app.main.prompt.text == "/frobnicate now"  # kept, not sent
            assert not bodies(server, "/prompt_async")
            await pilot.press("enter")
            await wait_for(pilot, app, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await wait_for(pilot, app, lambda: bodies(server, "/prompt_async"))
            assert bodies(server, "/prompt_async")[0]["parts"][0]["text"] == "/frobnicate now"
            assert len(bodies(server, "/prompt_async")) == 1


async def test_bang_runs_a_shell_command() -> None:
    async with scripted() as server:
        app = app_on(server)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot, app)
            prompt = app.main.prompt
            await pilot.press("!")
            assert prompt.shell and prompt.text == ""  # the "!" is not typed
            assert prompt.border_title == "Shell"
            await pilot.press("backspace")  # at the start: leaves shell mode
            assert not prompt.shell
            await pilot.press("!", *"echo hi", "enter")
            await wait_for(pilot, app, lambda: bodies(server, "/shell"))
            body = bodies(server, "/shell")[0]
            assert body["command"] == "echo hi" and body["agent"] == "build"
            assert body["messageID"].startswith("msg_")
            assert not prompt.shell  # back to normal after running
            assert not bodies(server, "/prompt_async")


async def test_tab_cycles_the_primary_agents_and_the_prompt_is_sent_with_it() -> None:
    async with scripted() as server:
        app = app_on(server)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot, app)
            prompt = app.main.prompt
            assert prompt.border_title == "Build"
            await pilot.press("tab")
            assert prompt.border_title == "Plan"
            assert prompt.has_class("-agent-3")  # plan's colour ($warning), as opencode picks it
            await pilot.press("tab")  # wraps: subagents and hidden agents are skipped
            assert prompt.border_title == "Build"
            await pilot.press("shift+tab")
            assert prompt.border_title == "Plan"
            await pilot.press(*"make a plan", "enter")
            await wait_for(pilot, app, lambda: bodies(server, "/prompt_async"))
            assert bodies(server, "/prompt_async")[0]["agent"] == "plan"
            # Kept per thread: a new thread starts with the first agent again.
            await pilot.press("ctrl+n")
            await wait_for(pilot, app, lambda: prompt.border_title == "Build")


async def test_at_lists_subagents_and_sends_an_agent_part() -> None:
    async with scripted() as server:
        app = app_on(server)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot, app)
            await pilot.press(*"ask @gen")
            await wait_for(pilot, app, lambda: rows(app)[:1] == ["@general"])
            await pilot.press("enter", *"to look", "enter")
            await wait_for(pilot, app, lambda: bodies(server, "/prompt_async"))
            parts = bodies(server, "/prompt_async")[0]["parts"]
            assert parts[1] == {
                "type": "agent",
                "name": "general",
                "source": {"start": 4, "end": 12, "value": "@general"},
            }


# -- snapshots ---------------------------------------------------------------------------------


def offline_app(lang: str) -> T3App:
    """An app with the server's lists already known, and a file search answered in-process
    (a snapshot runs the app in a loop of its own, where no test server runs)."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/find/file":
            query = request.url.params.get("query", "")
            return httpx.Response(200, json=[p for p in FILES if query in p])
        return httpx.Response(404, json={"name": "NotFound", "data": {"message": "offline"}})

    client = OpencodeClient("http://127.0.0.1:9", transport=httpx.MockTransport(answer))
    store = ui.make_store([session_updated(SID, title="A thread")])
    app = ui.make_app(store, lang=lang, client=client)
    app.agents.lists[client.base_url] = agents_from(AGENTS)
    app.composer.commands[client.base_url] = commands_from(COMMANDS)
    return app


def typed(*keys: str, until: Callable[[T3App], bool] | None = None) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: T3App = pilot.app  # type: ignore[assignment]
        await pilot.pause(0.2)
        await pilot.press(*keys)
        if until is not None:
            await wait_for(pilot, app, lambda: until(app))
        await app.frames.frame()
        await pilot.pause(0.3)

    return run_before


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_snapshot_slash_completion(snap_compare: Callable[..., bool], lang: str) -> None:
    app = offline_app(lang)
    assert snap_compare(app, terminal_size=SIZE, run_before=typed("/", until=lambda a: "/init" in rows(a)))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_snapshot_file_completion(snap_compare: Callable[..., bool], lang: str) -> None:
    app = offline_app(lang)
    ready = typed(*"see @s", until=lambda a: "@src/main.py" in rows(a))
    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_snapshot_shell_mode_and_plan_agent(snap_compare: Callable[..., bool], lang: str) -> None:
    app = offline_app(lang)
    assert snap_compare(app, terminal_size=SIZE, run_before=typed("tab", "!", *"ls -la"))


async def test_a_refused_shell_command_comes_back_in_shell_mode() -> None:
    async with scripted() as server:
        server.rest[f"/session/{SID}/shell"] = Reply(
            400, {"name": "BadRequest", "data": {"message": "no shell"}}
        )
        app = app_on(server)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot, app)
            prompt = app.main.prompt
            await pilot.press("!", *"echo hi", "enter")
            await wait_for(pilot, app, lambda: any("no shell" in m for m in toasts(app)))
            await wait_for(pilot, app, lambda: prompt.text == "echo hi")
            assert prompt.shell  # Enter again runs it again, not a prompt to the model
            assert not bodies(server, "/prompt_async")


async def test_up_walks_the_history_past_a_slash_command() -> None:
    async with scripted() as server:
        app = app_on(server)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot, app)
            prompt = app.main.prompt
            prompt.prompt_history[:] = ["older prompt", "/init"]
            await pilot.press("up")
            await wait_for(pilot, app, lambda: prompt.text == "/init")
            assert not app.main.completion.open  # recalled, not typed: no list takes Up
            await pilot.press("up")
            await wait_for(pilot, app, lambda: prompt.text == "older prompt")
            await pilot.press("down", "backspace")  # typing again completes as usual
            await wait_for(pilot, app, lambda: "/init" in rows(app))
