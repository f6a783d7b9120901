"""JSON from the server, decoded without ever blowing the stack.

opencode relays a model's tool arguments verbatim, and frames nested 3,000 levels deep
were seen from the real server: ``json.loads`` then raises ``RecursionError``, and so
would every recursive walk of the result (validation, redaction, rendering). So nesting
deeper than :data:`MAX_DEPTH` is cut: the too-deep value is replaced by a short string
that says so, and the rest of the event (its session, its part, its text) still counts.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64
DEEP_MARK = "⋯ (nested deeper than {depth} levels; not shown)"

# A JSON string (skipped whole, so brackets inside it do not count) or a bracket.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads``, with nesting deeper than ``max_depth`` replaced by a marker.

    Raises ``ValueError`` (as ``json.loads`` does) for text that is not JSON, never
    ``RecursionError``. Counting brackets first keeps the common case at the cost of
    two ``str.count`` calls.
    """
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", errors="replace")
    if text.count("{") + text.count("[") > max_depth:
        text = prune(text, max_depth)
    try:
        return json.loads(text)
    except RecursionError as exc:  # pragma: no cover - prune() keeps the depth bounded
        raise ValueError("JSON nested too deeply") from exc


def prune(text: str, max_depth: int = MAX_DEPTH) -> str:
    """``text`` with every array or object deeper than ``max_depth`` replaced by a marker.

    Returns ``text`` itself when nothing is that deep. Works on the raw text, without
    recursion, so any depth is fine; malformed text stays malformed.
    """
    depth = 0
    cut_from = -1  # where the too-deep value began
    pieces: list[str] = []
    last = 0
    for m in _TOKENS.finditer(text):
        tok = m.group()
        if tok[0] == '"':
            continue
        if tok in "[{":
            depth += 1
            if depth == max_depth + 1 and cut_from < 0:
                cut_from = m.start()
        else:
            if depth == max_depth + 1 and cut_from >= 0:
                pieces.append(text[last:cut_from])
                pieces.append(json.dumps(DEEP_MARK.format(depth=max_depth), ensure_ascii=False))
                last = m.end()
                cut_from = -1
            depth -= 1
    if not pieces:
        if cut_from >= 0:  # unterminated: cut to the end, it will not parse anyway
            return text[:cut_from] + json.dumps(DEEP_MARK.format(depth=max_depth))
        return text
    if cut_from >= 0:
        pieces.append(text[last:cut_from])
        pieces.append(json.dumps(DEEP_MARK.format(depth=max_depth)))
    else:
        pieces.append(text[last:])
    return "".join(pieces)


def depth(value: Any) -> int:
    """How deeply ``value`` nests (without recursion): 0 for a scalar."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, d = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, d + 1) for v in item.values())
            d += 1
        elif isinstance(item, list):
            stack.extend((v, d + 1) for v in item)
            d += 1
        deepest = max(deepest, d)
    return deepest
