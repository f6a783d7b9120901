"""Attention across threads: which threads need the user, and telling them so.

When a thread that is not on screen (or any thread, while the terminal is not focused)
finishes, fails, or asks a permission or a question, t3tui rings the terminal bell and
sends a desktop notification as an OSC 9 or OSC 777 escape sequence, which the terminal
the user sits at shows even over SSH (inside tmux, wrapped in its passthrough). Each
can be switched off in the config (``bell``, ``notify``).

Only live events signal: a request asked (``permission.asked``, ``question.asked``) that
is still pending when the frame comes, and a run that ended (idle, error) of a thread
seen running. A resync's snapshots replay old state and never ring; a request rings
once however often it is listed again; signals are at most one a second, those in
between gathered into one. The thread on screen is not signalled while the terminal
has the focus (Textual learns focus in and out from terminals that report it; one that
does not is taken as always focused, so only threads not on screen signal). A subagent
finishing does not signal (its parent goes on); a subagent asking does.

opencode's TUI (its ``internal:notifications`` plugin) does the same for permissions,
questions, finishes and errors, deduplicated by request id; it notifies only while the
terminal is blurred and rings for the session on screen too.

Besides signals: the threads asking now (for the cockpit, ``screens/cockpit.py``, and the
footer's F9), and the sidebar's "needs you" group, toggled and remembered in
``attention.json`` in the state directory (the config's ``attention_first`` wins at start).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.timer import Timer

from t3tui import logs
from t3tui.app.screens.cockpit import CockpitScreen
from t3tui.i18n import t
from t3tui.opencode.wire import PermissionRequest, QuestionRequest
from t3tui.state.store import Thread

if TYPE_CHECKING:
    from t3tui.app.app import T3App

log = logging.getLogger(__name__)

GAP = 1.0  # seconds: at most one signal this often; those in between are gathered
TITLE_WIDTH = 40  # characters of a thread's title in a notification
BODY_WIDTH = 200  # characters of a notification
RUNG = 1024  # request ids remembered as signalled
# Which turn endings signal, and how they read; an interrupt the user made, a resync's
# guess and an instance dispose do not (the user did them, or nothing is known).
QUIET = frozenset({"user", "resync", "disposed"})
WATCHED = frozenset({"permission.asked", "question.asked", "session.status", "session.idle", "session.error"})


@dataclass(frozen=True)
class AttentionSettings:
    """What the config says: the bell, the notification's protocol, the sidebar's order."""

    bell: bool = True
    notify: str = "auto"  # auto, osc9, osc777, off (config.NOTIFY)
    attention_first: bool | None = None  # None: as last toggled


# -- the escape sequences (pure) ------------------------------------------------------

# Control characters (C0, DEL, C1) would end the sequence early or move the cursor: they
# become spaces. Bidi controls and invisible characters would reorder or hide text, and
# a lone surrogate cannot be encoded at all: they go.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_INVISIBLE = re.compile(
    "[\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufeff\uffa0\ufff9-\ufffb\ud800-\udfff]"
)


def sanitize(text: str, width: int = BODY_WIDTH) -> str:
    """``text`` fit for a notification: one line, no control, bidi or invisible
    character, no ``;`` (OSC 777 separates its fields with it, and ConEmu-style
    terminals read ``9;N;`` as a command), at most ``width`` characters."""
    flat = " ".join(_INVISIBLE.sub("", _CONTROL.sub(" ", text)).replace(";", ",").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def protocol(setting: str, env: Mapping[str, str]) -> str:
    """``osc9``, ``osc777`` or ``off``. ``auto`` is OSC 777 where the terminal is known
    to show it and not OSC 9 (foot, VTE terminals such as GNOME Terminal, urxvt), else
    OSC 9 (iTerm2, WezTerm, kitty, ghostty, Windows Terminal…; a terminal that knows
    neither ignores it)."""
    if setting in ("osc9", "osc777", "off"):
        return setting
    term = env.get("TERM", "")
    if env.get("VTE_VERSION") or term.startswith(("foot", "rxvt")):
        return "osc777"
    return "osc9"


def tmux_wrap(sequence: str) -> str:
    """``sequence`` through tmux's passthrough (``allow-passthrough on``), its ESCs doubled."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


def notification(kind: str, body: str, tmux: bool = False) -> str:
    """The escape sequence that asks the terminal to show ``body`` (already sanitized)."""
    if kind == "osc777":
        sequence = f"\x1b]777;notify;t3tui;{body}\x07"
    elif kind == "osc9":
        sequence = f"\x1b]9;t3tui: {body}\x07"
    else:
        return ""
    return tmux_wrap(sequence) if tmux else sequence


# -- pending requests ---------------------------------------------------------------------

_ASCENDING = re.compile(r"^[a-z]+_([0-9a-f]{12})[0-9A-Za-z]{14}$")
_SPAN = 1 << 36  # opencode's ascending ids keep the low 36 bits of the time in ms


def asked_at(rid: str, now: float, seen: float) -> float:
    """When a request was asked (clock seconds): from its id when it is in opencode's
    ascending format and says a time within the last week, else when t3tui first saw it."""
    match = _ASCENDING.match(rid)
    if match is None:
        return seen
    low = int(match.group(1), 16) >> 12
    age_ms = (int(now * 1000) - low) % _SPAN
    return now - age_ms / 1000 if age_ms <= 7 * 24 * 3600 * 1000 else seen


@dataclass(frozen=True)
class Pending:
    """A permission or question waiting for the user, with its thread."""

    request: PermissionRequest | QuestionRequest
    thread: Thread
    asked: float  # clock seconds

    @property
    def is_permission(self) -> bool:
        return isinstance(self.request, PermissionRequest)


class Attention:
    """Signals, the threads asking now, the cockpit and the sidebar's attention order."""

    def __init__(
        self, app: T3App, settings: AttentionSettings | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        self.app = app
        settings = settings or AttentionSettings()
        env = os.environ if env is None else env
        self.bell = settings.bell
        self.protocol = protocol(settings.notify, env)
        self.tmux = bool(env.get("TMUX"))
        self.gap = GAP
        self.monotonic: Callable[[], float] = time.monotonic  # the gap's clock (tests set their own)
        self.asking: set[str] = set()  # threads with a request pending
        self.first_seen: dict[str, float] = {}  # request id -> clock seconds
        self.cockpit: CockpitScreen | None = None
        self._asked: dict[str, str] = {}  # request ids a live event asked -> its thread
        self._ended: set[str] = set()  # threads a live event said stopped running
        self._ran: set[str] = set()  # threads seen running (a finish needs a start)
        self._rung: deque[str] = deque(maxlen=RUNG)
        self._done: dict[str, tuple[str, str]] = {}  # thread -> the turn ending signalled
        self._queue: list[tuple[str, str]] = []  # (title, text) waiting for the gap
        self._last = -GAP
        self._timer: Timer | None = None
        self._footer = False
        drafts = app.threads.drafts.path
        self.path = drafts.parent / "attention.json" if drafts is not None else None
        self.first = self._remembered() if settings.attention_first is None else settings.attention_first

    # -- what happens ----------------------------------------------------------------

    def observed(self, obs: dict[str, Any]) -> None:
        """Every observation (10,000 a second in a burst): note the few that may signal."""
        event = obs.get("event")
        if event is None:
            return
        payload = event.get("payload") if isinstance(event, dict) else None
        kind = payload.get("type") if isinstance(payload, dict) else None
        if kind not in WATCHED:
            return
        props = payload.get("properties")  # type: ignore[union-attr]
        if not isinstance(props, dict):
            return
        sid = props.get("sessionID")
        if not isinstance(sid, str):
            return
        if kind in ("permission.asked", "question.asked"):
            rid = props.get("id")
            if isinstance(rid, str):
                self._asked[rid] = sid
            return
        status = props.get("status")
        state = status.get("type") if isinstance(status, dict) else None
        if kind == "session.status" and state in ("busy", "retry"):
            self._ran.add(sid)
        elif kind != "session.status" or state == "idle":
            self._ended.add(sid)

    def frame(self, dirty: Iterable[str]) -> None:
        """The stores changed (``dirty``: the threads that did): who asks now, and what signals."""
        app = self.app
        now = app.clock()
        for sid in dirty:
            th = app.link_of(sid).store.threads.get(sid)
            if th is None:
                self.asking.discard(sid)
                continue
            if th.active:
                self._ran.add(sid)
            if th.permissions or th.questions:
                self.asking.add(sid)
                for rid in (*th.permissions, *th.questions):
                    self.first_seen.setdefault(rid, now)
            else:
                self.asking.discard(sid)
        if len(self.first_seen) > RUNG:  # forget the requests no longer pending
            live = {p.request.id for p in self.pending()}
            self.first_seen = {rid: seen for rid, seen in self.first_seen.items() if rid in live}
        if self._asked:
            self._check_asked()
        if self._ended:
            self._check_ended()
        current = app.threads.current_id
        pending = any(p.thread.id != current for p in self.pending())
        if pending != self._footer:
            self._footer = pending
            app.refresh_bindings()
        if self.cockpit is not None:
            self.cockpit.sync()

    def _thread(self, sid: str) -> Thread | None:
        return self.app.link_of(sid).store.threads.get(sid)

    def _check_asked(self) -> None:
        asked, self._asked = self._asked, {}
        for rid, sid in asked.items():
            th = self._thread(sid)
            if th is None or rid in self._rung:
                continue
            perm = th.permissions.get(rid)
            if perm is not None:
                self._rung.append(rid)
                what = sanitize(perm.permission or "?", TITLE_WIDTH)
                self._signal(th, "attention.permission", permission=what)
            elif rid in th.questions:
                self._rung.append(rid)
                self._signal(th, "attention.question")

    def _check_ended(self) -> None:
        for sid in list(self._ended):
            th = self._thread(sid)
            if th is not None and th.active:
                continue  # an error comes before the idle; a queued prompt runs on
            self._ended.discard(sid)
            if th is None or sid not in self._ran:
                continue
            self._ran.discard(sid)
            turn = th.latest_turn()
            if th.status == "error":
                key = "attention.failed"
            elif turn is None:
                continue
            elif turn.state == "completed":
                key = "attention.finished"
            elif turn.state == "error":
                key = "attention.failed"
            elif turn.state == "interrupted" and turn.settled_by not in QUIET:
                key = "attention.stopped"
            else:
                continue
            done = (turn.id if turn is not None else "", key)
            if self._done.get(sid) == done or th.parent_id:
                continue
            self._done[sid] = done
            self._signal(th, key)

    # -- signals ---------------------------------------------------------------------

    def _signal(self, th: Thread, key: str, **values: str) -> None:
        app = self.app
        if th.id == app.threads.current_id and app.app_focus:
            return  # the user is looking at it
        if not self.bell and self.protocol == "off":
            return
        # Secrets out before the title is cut (a cut secret is no longer recognised).
        title = sanitize(logs.scrub(th.title or t("sidebar.untitled")), TITLE_WIDTH)
        self._queue.append((title, t(key, title=title, **values)))
        if self._timer is None:
            self._due()

    def _due(self) -> None:
        """Signal what waits if the gap since the last signal is over, else wait for it."""
        self._timer = None
        wait = self._last + self.gap - self.monotonic()
        if wait > 0:
            self._timer = self.app.set_timer(wait, self._due)
        else:
            self.flush()

    @property
    def waiting(self) -> int:
        """Signals gathered until the gap is over."""
        return len(self._queue)

    def flush(self) -> None:
        """Ring and notify once for everything that waited."""
        queue, self._queue = self._queue, []
        if not queue:
            return
        self._last = self.monotonic()
        if len(queue) == 1:
            body = queue[0][1]
        else:
            titles = list(dict.fromkeys(title for title, _ in queue))
            body = t("attention.many", count=len(queue), titles=", ".join(titles))
        body = sanitize(logs.scrub(body))
        log.debug("attention: %d signal(s)", len(queue))
        out = notification(self.protocol, body, self.tmux)
        if self.bell:
            out += "\x07"
        # As App.copy_to_clipboard writes OSC 52: straight to the driver (App.bell()
        # writes nothing in a headless app, which is how the tests run).
        driver = self.app._driver
        if out and driver is not None:
            driver.write(out)

    # -- requests across threads -------------------------------------------------------

    def pending(self) -> list[Pending]:
        """Every permission and question waiting for the user, newest first (answers sent
        and not yet confirmed left out)."""
        app = self.app
        now = app.clock()
        answered = app.requests.answered
        out = []
        for sid in list(self.asking):
            th = self._thread(sid)
            if th is None:
                self.asking.discard(sid)
                continue
            for req in (*th.permissions.values(), *th.questions.values()):
                if req.id not in answered:
                    out.append(Pending(req, th, asked_at(req.id, now, self.first_seen.get(req.id, now))))
        out.sort(key=lambda p: (-p.asked, p.request.id))
        return out

    def any_pending(self) -> bool:
        """Something waits in a thread other than the one on screen (whose own panel
        shows it): the footer shows F9."""
        return self._footer

    def open_cockpit(self) -> None:
        """F9: the pending requests; from the sidebar, on the request of the thread under
        its cursor (its panel focused: one more key answers it)."""
        app = self.app
        if self.cockpit is not None and self.cockpit.is_attached:
            return
        sidebar = app.main.sidebar
        focus = sidebar.pointed if sidebar.has_focus else None
        self.cockpit = CockpitScreen(self, focus)
        app.push_screen(self.cockpit)

    # -- the sidebar's order -----------------------------------------------------------

    def apply(self) -> None:
        """Give the sidebar the order (at start)."""
        self.app.main.sidebar.attention_first = self.first

    def toggle_first(self) -> None:
        """Threads that need the user first in the sidebar, or the usual order."""
        self.first = not self.first
        sidebar = self.app.main.sidebar
        sidebar.attention_first = self.first
        sidebar.redraw()
        self._save()
        self.app.toast(t("toast.attention_first_on" if self.first else "toast.attention_first_off"))

    def _remembered(self) -> bool:
        if self.path is None or not self.path.is_file():
            return False
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(data, dict) and data.get("first") is True

    def _save(self) -> None:
        path: Path | None = self.path
        if path is None:
            return
        tmp: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".attention-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"first": self.first}, fh)
            os.replace(tmp, path)
        except OSError:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
