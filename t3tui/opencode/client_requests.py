"""The REST calls that answer what the agent asks the user: permissions and questions.

A part of :class:`t3tui.opencode.client.OpencodeClient` (a mixin, so that the client
stays one object of a size one can read): each call goes through the client's
``request``, with its errors, limits and directory routing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any


class RequestCalls:
    """``GET /permission``, ``GET /question`` and the replies to them."""

    if TYPE_CHECKING:

        async def request(
            self,
            method: str,
            path: str,
            *,
            directory: str | None = None,
            body: Any = None,
            params: dict[str, Any] | None = None,
            wait: bool = False,
        ) -> Any: ...

    async def raw_permissions(self, directory: str) -> Any:
        return await self.request("GET", "/permission", directory=directory)

    async def reply_permission(
        self, request_id: str, directory: str | None, reply: str, message: str | None = None
    ) -> bool:
        if reply not in ("once", "always", "reject"):
            raise ValueError(f"unknown permission reply {reply!r}")
        body: dict[str, Any] = {"reply": reply}
        if message:
            body["message"] = message
        return bool(
            await self.request("POST", f"/permission/{request_id}/reply", directory=directory, body=body)
        )

    async def raw_questions(self, directory: str) -> Any:
        return await self.request("GET", "/question", directory=directory)

    async def reply_question(self, request_id: str, directory: str | None, answers: list[list[str]]) -> bool:
        body = {"answers": answers}
        return bool(
            await self.request("POST", f"/question/{request_id}/reply", directory=directory, body=body)
        )

    async def reject_question(self, request_id: str, directory: str | None) -> bool:
        return bool(await self.request("POST", f"/question/{request_id}/reject", directory=directory))
