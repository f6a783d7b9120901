"""Sending a prompt: never lost (a refused one comes back), never twice (an unanswered one is checked)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from t3tui import observations
from t3tui.i18n import t
from t3tui.opencode.client import NotFoundError, OpencodeError, UncertainError, ascending_id
from t3tui.state.prompt import Agent, Mention, agent_part, file_part, occurrences, split_range
from t3tui.state.store import Turn

if TYPE_CHECKING:
    from t3tui.app.app import T3App
    from t3tui.app.controllers.server import ServerLink

log = logging.getLogger(__name__)

CONFIRM_FOR = 300.0  # seconds to keep asking whether a prompt that got no answer was taken


@dataclass
class Outgoing:
    """What Enter sends: the text (pastes expanded), its parts, and how it goes."""

    text: str
    parts: list[dict[str, Any]] = field(default_factory=list)
    shell: bool = False  # POST /session/{id}/shell
    command: tuple[str, str] | None = None  # a server command: (name, arguments)
    resolve: list[str] = field(default_factory=list)  # @words to look up


class Sending:
    """Sends what the prompt holds, and gives it back when the server certainly did not take it."""

    def __init__(self, app: T3App) -> None:
        self.app = app

    def submit(
        self,
        text: str,
        *,
        parts: Sequence[dict[str, Any]] = (),
        shell: bool = False,
        command: tuple[str, str] | None = None,
        resolve: Sequence[str] = (),
    ) -> None:
        """Enter in the prompt: send to the open thread (a new one if none is open).

        ``parts``: the files and agents mentioned; ``shell``: run ``text`` as a shell
        command; ``command``: a server command's (name, arguments); ``resolve``: ``@words``
        typed without picking them, attached if the server finds them.
        """
        if not text.strip():
            return
        threads = self.app.threads
        prompt = self.app.main.prompt
        full = prompt.expanded(text)  # pasted text in place of its [Pasted ~N lines] token
        parts = [*parts, *prompt.file_parts(full)]  # offsets in the text sent
        threads.drafts.remember(f"!{full}" if shell else full)
        prompt.load_text("")
        prompt.clear_attachments()
        threads.drafts.set(threads.draft_key(), "")
        threads.save_drafts()
        out = Outgoing(full, list(parts), shell=shell, command=command, resolve=list(resolve))
        self.send(threads.current_id, out)

    def send(self, sid: str | None, out: Outgoing | str) -> None:
        """Send ``out`` to thread ``sid`` (None: a new thread), as a worker."""
        if isinstance(out, str):
            out = Outgoing(out)
        self.app.run_worker(self._send(sid, out), group="send", exit_on_error=False)

    async def _send(self, sid: str | None, out: Outgoing) -> None:
        app = self.app
        link = app.link_of(sid)
        mid = ascending_id("msg")
        th = link.store.threads.get(sid) if sid else None
        text = out.text
        posted = False
        new_thread = False
        try:
            if th is None:
                # A new thread, or one the store has not heard of yet (opened by id).
                if sid is None:
                    session = await link.client.create_session(app.threads.new_directory or link.directory)
                else:
                    session = await link.client.get_session(sid, link.directory)
                link.observe_session(session)
                new_thread = sid is None
                sid = session.id
                if new_thread:
                    await app.threads.open(sid)
                th = link.store.threads[sid]
            # Before the turn exists: a model picked for a new thread applies to its
            # first prompt (model_for looks at whether the thread has turns yet).
            model = app.models.model_for(th, new_thread)
            agent = app.agents.sent(th, new_thread)
            variant = app.models.variant_for(th)
            parts = out.parts + await _resolve(link, th.directory or link.directory, out, app.agents.of(link))
            link.observe(observations.prompt_sent(sid, mid, text, th.directory))
            posted = True
            if out.shell:
                await link.client.run_shell(sid, th.directory, text, agent=agent, model=model, message_id=mid)
            elif out.command is not None:
                name, arguments = out.command
                files = [p for p in parts if p.get("type") == "file"]
                await link.client.run_command(
                    sid,
                    th.directory,
                    name,
                    arguments,
                    model=model,
                    message_id=mid,
                    agent=agent,
                    variant=variant,
                    parts=files,
                )
            else:
                await link.client.prompt_async(
                    sid,
                    th.directory,
                    text,
                    message_id=mid,
                    model=model,
                    agent=agent,
                    variant=variant,
                    parts=parts,
                )
        except UncertainError as exc:
            if posted and sid is not None and th is not None:
                await self._confirm(link, sid, th.directory, mid, out, exc.message)
            else:
                self._failed(link, sid, mid, out, exc.message, posted=posted)
        except OpencodeError as exc:
            self._failed(link, sid, mid, out, exc.message, posted=posted)
        except Exception as exc:  # a bug here must not eat the prompt
            log.exception("sending a prompt failed")
            self._failed(link, sid, mid, out, f"{exc.__class__.__name__}: {exc}", posted=posted)

    def _failed(
        self, link: ServerLink, sid: str | None, mid: str, out: Outgoing, error: str, *, posted: bool = True
    ) -> None:
        """The server certainly did not take the prompt: say so, and give the text back."""
        if sid and posted:
            link.observe(observations.prompt_refused(sid, mid, error))
        restored = self._restore(sid, out)
        key = "toast.send_failed" if restored else "toast.send_failed_kept"
        self.app.toast(t(key, error=error), severity="error", timeout=10)

    async def _confirm(
        self, link: ServerLink, sid: str, directory: str | None, mid: str, out: Outgoing, error: str
    ) -> None:
        """The prompt was sent but no answer came: find out whether the server has it.

        The message id is ours, so the server's copy can be looked up. Until then the
        turn shows "sending…" (the store keeps it open); only a server that answers
        and does not have the message makes it "not sent".
        """
        link.observe(observations.prompt_uncertain(sid, mid, "unknown"))
        self.app.toast(t("toast.send_checking", error=error), severity="warning", timeout=10)
        missing = 0
        delay = 1.0
        deadline = time.monotonic() + CONFIRM_FOR
        while True:
            turn = _turn(link, sid, mid)
            if turn is not None and turn.user is not None:
                break  # the stream (or a resync) already showed the server's copy
            try:
                await link.client.raw_message(sid, mid, directory)
                break
            except NotFoundError:
                missing += 1
                if missing >= 2:  # twice, a moment apart: not a request still in flight
                    self._failed(link, sid, mid, out, t("send.not_taken"))
                    return
            except OpencodeError:
                pass  # still frozen or down: ask again
            if time.monotonic() > deadline:
                link.observe(observations.prompt_uncertain(sid, mid, "gave_up"))
                self.app.toast(t("toast.send_unknown"), severity="warning", timeout=15)
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 8.0)
        link.observe(observations.prompt_confirmed(sid, mid))
        self.app.toast(t("toast.send_confirmed"))

    def _restore(self, sid: str | None, out: Outgoing) -> bool:
        """A refused prompt goes back into the input, unless the user typed since: with its
        attached files, and in shell mode if it was a shell command.

        Returns whether it is in the input now (otherwise it is in the prompt history,
        and in the thread's draft if that was empty): the toast must not claim more.
        """
        threads = self.app.threads
        key = threads.draft_key(sid)
        prompt = self.app.main.prompt
        restored = False
        if sid == threads.current_id and not prompt.text.strip():
            prompt.load_text(out.text)
            prompt.restore_attachments(out.parts)
            prompt.shell = out.shell
            prompt.move_cursor(prompt.document.end)
            restored = True
        elif not threads.drafts.get(key):
            threads.drafts.set(key, f"!{out.text}" if out.shell else out.text)
        threads.save_drafts()
        return restored


def _turn(link: ServerLink, sid: str, mid: str) -> Turn | None:
    th = link.store.threads.get(sid)
    return th.turns.get(mid) if th is not None else None


async def _resolve(
    link: ServerLink, directory: str, out: Outgoing, agents: list[Agent]
) -> list[dict[str, Any]]:
    """Parts for the ``@words`` typed without picking them from the list: a subagent by
    name, or a file or directory the server's search finds under exactly that path. A
    word that is neither stays text (an e-mail address, a decorator)."""
    found: list[dict[str, Any]] = []
    names = {a.name for a in agents if a.mode != "primary" and not a.hidden}
    for word in out.resolve:
        at = occurrences(out.text, word)
        if not at:
            continue
        if word[1:] in names:
            found.append(agent_part(word[1:], at[0]))
            continue
        base, start, end = split_range(word[1:])
        if not base:
            continue
        try:
            paths = await link.client.find_files(base.rstrip("/"), directory, limit=50)
        except OpencodeError as exc:
            log.info("could not look up %s: %s", word, exc.message)
            continue
        for path in (base, base.rstrip("/") + "/"):
            if path in paths:
                mention = Mention(path, start, end) if not path.endswith("/") else Mention(path)
                if mention.value == word:
                    found.append(file_part(directory, mention, at[0]))
                break
    return found
