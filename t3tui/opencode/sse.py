"""Server-sent events read with bounded memory, and response bodies read the same way.

A hostile or broken server can send one 500 MB line, a stream with no newline at all,
or a gzip bomb (3.2 MB on the wire, gigabytes once inflated). Each of those once took
the client past 1.5 GB. Here one event, the read buffer and the inflated size of a
body all have a ceiling well above anything opencode sends (its largest event is a
final text part of a few hundred KB; a 20,000-turn history is about 40 MB), and going
over it is an error the caller reports, never growth without bound.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from typing import Any

MAX_EVENT = 16 * 1024 * 1024  # one event's data, and any one line
MAX_BODY = 256 * 1024 * 1024  # a whole REST answer, inflated
MAX_RATIO = 200  # inflated / compressed, past the first MAX_RATIO_AFTER bytes
MAX_RATIO_AFTER = 8 * 1024 * 1024
_STEP = 256 * 1024  # inflate at most this much at a time


class TooLarge(Exception):
    """The server sent more than the client will hold."""


class Inflater:
    """Undoes ``Content-Encoding`` (gzip, deflate) in bounded steps.

    Refuses encodings it cannot bound (br, zstd: the client never asks for them) and
    output that inflates far past its input (a bomb).
    """

    def __init__(self, encoding: str | None) -> None:
        enc = (encoding or "identity").strip().lower()
        if enc in ("", "identity"):
            self._z: Any = None
        elif enc in ("gzip", "x-gzip", "deflate"):
            self._z = zlib.decompressobj(47 if enc != "deflate" else 15)
            self._deflate = enc == "deflate"
        else:
            raise TooLarge(f"the server used a compression the client does not accept ({enc})")
        self.wire = 0
        self.out = 0

    def feed(self, chunk: bytes) -> list[bytes]:
        self.wire += len(chunk)
        if self._z is None:
            self.out += len(chunk)
            return [chunk] if chunk else []
        pieces: list[bytes] = []
        data = chunk
        while data:
            try:
                piece = self._z.decompress(data, _STEP)
            except zlib.error:
                if self._deflate and self.out == 0 and self.wire == len(chunk):
                    # "deflate" is sometimes raw deflate, without the zlib header.
                    self._z = zlib.decompressobj(-15)
                    self._deflate = False
                    continue
                raise TooLarge("the server sent a body that does not inflate") from None
            self.out += len(piece)
            if self.out > MAX_RATIO_AFTER and self.out > MAX_RATIO * self.wire:
                raise TooLarge(
                    f"the server sent a compression bomb ({self.wire} bytes inflating past {self.out})"
                )
            if piece:
                pieces.append(piece)
            data = self._z.unconsumed_tail
        return pieces


async def read_body(response: Any, limit: int = MAX_BODY) -> bytes:
    """The whole body of a streamed ``httpx`` response, or :class:`TooLarge`."""
    if response.is_stream_consumed:  # a response built in memory (a test transport)
        content: bytes = response.content
        if len(content) > limit:
            raise TooLarge(f"the server's answer is larger than {limit // (1024 * 1024)} MB")
        return content
    inflater = Inflater(response.headers.get("content-encoding"))
    out = bytearray()
    async for chunk in response.aiter_raw():
        for piece in inflater.feed(chunk):
            out += piece
            if len(out) > limit:
                raise TooLarge(f"the server's answer is larger than {limit // (1024 * 1024)} MB")
    return bytes(out)


class SSEDecoder:
    """Turns bytes into the ``data`` of each event (``text/event-stream`` framing).

    opencode sends exactly one ``data:`` line per event; a second ``data:`` line before
    the blank line would be joined with a newline (the SSE rule), which no JSON
    payload survives. When the data held so far already is one whole JSON object,
    such a line starts a new event instead (:attr:`unframed` counts them), so a server
    that forgets the blank lines still gets through.
    """

    def __init__(self, max_event: int = MAX_EVENT) -> None:
        self.max_event = max_event
        self._buf: list[bytes] = []  # the start of a line not ended yet, in pieces
        self._buf_len = 0
        self._data: list[bytes] = []
        self._size = 0
        self.unframed = 0

    def feed(self, chunk: bytes) -> list[str]:
        if b"\n" not in chunk:
            # Kept in pieces, joined once the line ends: a long line costs its length,
            # not its length times the number of chunks it came in.
            self._buf_len += len(chunk)
            if self._buf_len > self.max_event:
                raise TooLarge(f"an event line longer than {self.max_event // (1024 * 1024)} MB")
            self._buf.append(chunk)
            return []
        if self._buf:
            self._buf.append(chunk)
            chunk = b"".join(self._buf)
            self._buf.clear()
        lines = chunk.split(b"\n")
        rest = lines.pop()
        self._buf_len = len(rest)
        if self._buf_len > self.max_event:
            raise TooLarge(f"an event line longer than {self.max_event // (1024 * 1024)} MB")
        if rest:
            self._buf.append(rest)
        out: list[str] = []
        data = self._data
        for line in lines:
            if not line or line == b"\r":
                if data:
                    out.append(self._take())
                continue
            if line[-1:] == b"\r":
                line = line[:-1]
            if line.startswith(b"data:"):
                value = line[6:] if line[5:6] == b" " else line[5:]
                if data and self._whole(data):
                    self.unframed += 1
                    out.append(self._take())
                self._size += len(value) + 1
                if self._size > self.max_event:
                    self._data.clear()
                    self._size = 0
                    raise TooLarge(f"an event larger than {self.max_event // (1024 * 1024)} MB")
                data.append(value)
            # comments (":…"), event:, id:, retry: and unknown fields carry nothing here
        return out

    @staticmethod
    def _whole(data: list[bytes]) -> bool:
        if len(data) != 1:
            return False
        first = data[0].strip()
        return first[:1] == b"{" and first[-1:] == b"}"

    def _take(self) -> str:
        raw = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
        self._data.clear()
        self._size = 0
        return raw.decode("utf-8", errors="replace")


async def iter_events(response: Any, max_event: int = MAX_EVENT) -> AsyncIterator[list[str]]:
    """Batches of event data from a streamed ``httpx`` response, as they arrive.

    An empty batch means bytes arrived that completed no event (a heartbeat still
    counts as an event; partial lines do not).
    """
    inflater = Inflater(response.headers.get("content-encoding"))
    decoder = SSEDecoder(max_event)
    async for chunk in response.aiter_raw():
        for piece in inflater.feed(chunk):
            yield decoder.feed(piece)
