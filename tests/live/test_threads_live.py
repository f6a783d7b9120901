"""Every project's threads against the real opencode: what the sidebar lists after a
start, the 101st thread of a directory, the server's search, and a new thread in a
directory picked with Ctrl+N (a server of this module's own, so the counts are known)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from t3tui.app.app import T3App
from t3tui.app.screens.directory import DirectoryScreen
from t3tui.app.widgets.sidebar import MORE

from .opencode_server import OpencodeServer
from .test_app_live import live_app, send_and_finish, wait_for

PAGE = 100


def make_sessions(server: OpencodeServer, directory: Path, titles: list[str]) -> list[str]:
    with httpx.Client(base_url=server.url, headers=server.auth_headers(), timeout=60) as http:
        ids = []
        for title in titles:
            r = http.post("/session", params={"directory": str(directory)}, json={"title": title})
            r.raise_for_status()
            ids.append(r.json()["id"])
        return ids


def titles(app: T3App) -> set[str]:
    return {th.title or "" for th in app.link.store.threads.values()}


def sidebar_title(app: T3App, sid: str) -> str:
    """The title the sidebar's row of thread ``sid`` shows ("" when it has no row)."""
    sidebar = app.main.sidebar
    if sid not in sidebar.thread_ids:
        return ""
    return str(sidebar.get_option(sid).prompt).splitlines()[0].strip(" ▸")


def sidebar_rows(app: T3App) -> list[str | None]:
    sidebar = app.main.sidebar
    return [sidebar.get_option_at_index(i).id for i in range(sidebar.option_count)]


async def test_every_projects_threads_page_by_page_and_found_by_search(
    fresh_opencode: OpencodeServer, tmp_path: Path
) -> None:
    server = fresh_opencode
    git_project = server.project_dir("with-git")
    plain = server.project_dir("no-git", git=False)
    make_sessions(server, plain, ["plain directory thread"])
    # 105 threads in one directory: more than a page (and more than GET /session's 100).
    many = make_sessions(server, git_project, [f"bulk {n:03d}" for n in range(105)])
    async with live_app(server, tmp_path) as (app, pilot):
        await wait_for(pilot, lambda: "bulk 104" in titles(app), what="the newest threads of another project")
        # The newest 100 across projects: the plain directory's (made first) is older.
        assert len(app.link.store.threads) == PAGE
        await wait_for(pilot, lambda: MORE in sidebar_rows(app), what="the row of older threads")
        # Their directories are not asked for status (that would start instances).
        assert str(git_project) not in app.link.store.directories
        sidebar = app.main.sidebar
        sidebar.focus()
        sidebar.highlighted = sidebar.option_count - 1
        await pilot.press("enter")
        await wait_for(pilot, lambda: "plain directory thread" in titles(app), what="the older page")
        assert {th.id for th in app.link.store.threads.values()} >= set(many)
        assert len(app.link.store.threads) == 106
        # The server's search finds a thread by title, through the sidebar's filter.
        make_sessions(server, plain, ["needle in the haystack"])
        sidebar.focus()
        await pilot.press(*"needle")
        await wait_for(pilot, lambda: "needle in the haystack" in titles(app), what="the server's search")
        await wait_for(
            pilot,
            lambda: (
                [app.link.store.threads[i].title for i in sidebar.thread_ids] == ["needle in the haystack"]
            ),
            what="the filtered sidebar",
        )


async def test_ctrl_n_twice_picks_the_directory_of_a_new_thread(
    fresh_opencode: OpencodeServer, tmp_path: Path
) -> None:
    server = fresh_opencode
    elsewhere = server.project_dir("elsewhere")
    make_sessions(server, elsewhere, ["a thread elsewhere"])
    async with live_app(server, tmp_path) as (app, pilot):
        launch = app.link.directory
        app.main.prompt.focus()
        await pilot.press(*"kept")  # typed before choosing: it stays in the prompt
        await pilot.press("ctrl+n", "ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, DirectoryScreen), what="the directory picker")
        screen: Any = app.screen
        # The server's projects join the list (GET /project).
        await wait_for(pilot, lambda: str(elsewhere) in screen.directories, what="the server's projects")
        await pilot.press(*"elsewhere")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, DirectoryScreen), what="the picker to close")
        assert app.threads.directory == str(elsewhere) != launch
        assert app.main.prompt.text == "kept"
        app.main.prompt.clear()
        await send_and_finish(pilot, "hello from elsewhere")
        th = app.threads.current
        assert th is not None and th.directory == str(elsewhere)
        with httpx.Client(base_url=server.url, headers=server.auth_headers(), timeout=60) as http:
            listed = http.get("/session", params={"directory": str(elsewhere)}).json()
        assert th.id in {s["id"] for s in listed}
        # Renamed by another client: the sidebar follows session.updated.
        with httpx.Client(base_url=server.url, headers=server.auth_headers(), timeout=60) as http:
            http.patch(
                f"/session/{th.id}", params={"directory": str(elsewhere)}, json={"title": "named elsewhere"}
            )
        await wait_for(
            pilot, lambda: sidebar_title(app, th.id) == "named elsewhere", what="the other client's title"
        )
        # Renamed here (Ctrl+R in the sidebar): the server has it.
        sidebar = app.main.sidebar
        sidebar.focus()
        sidebar.highlighted = sidebar.get_option_index(th.id)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.screen.query("#text-input"), what="the rename dialog")
        box: Any = app.screen.query_one("#text-input")
        box.value = ""
        await pilot.press(*"named here", "enter")
        with httpx.Client(base_url=server.url, headers=server.auth_headers(), timeout=60) as http:

            def server_title() -> str:
                return http.get(f"/session/{th.id}", params={"directory": str(elsewhere)}).json()["title"]

            await wait_for(pilot, lambda: server_title() == "named here", what="the title on the server")
        await wait_for(pilot, lambda: sidebar_title(app, th.id) == "named here", what="the new title shown")
