"""A small, dependency-free checker of HTTP requests against an OpenAPI 3.1 document.

It understands the subset of JSON Schema that opencode's ``GET /doc`` uses:

- ``$ref`` (JSON pointers into the document, ``#/components/schemas/X``), with sibling keywords;
- ``type`` (a name or a list of names, ``"null"`` included), ``enum``, ``const``;
- objects: ``properties``, ``required``, ``additionalProperties`` (``false`` or a schema);
- arrays: ``items``, ``prefixItems``, ``minItems``, ``maxItems``;
- numbers: ``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``;
- strings: ``pattern``, ``minLength``, ``maxLength``;
- ``anyOf``, ``oneOf``, ``allOf``.

Everything else is either an annotation (``description``, ``format``…, listed in
``ANNOTATIONS``) or reported by :meth:`Spec.unknown_keywords`, so that a constraint this
checker would silently skip shows up instead.

``Spec(doc)``:
- ``match(path)`` → ``(template, path_params)`` for a concrete path such as
  ``/session/ses_1/prompt_async`` (``/session/{sessionID}/prompt_async``); a literal
  segment beats a ``{param}`` one, so ``/session/status`` is not ``/session/{sessionID}``;
- ``check_request(method, path, query, body)`` → a list of problems, each naming the
  route and the key that is wrong (empty when the request fits the spec);
- ``validate(schema, value, where)`` → the problems of one value.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

NO_BODY = object()  # a request without a body (as opposed to a JSON ``null``)

VALIDATION_KEYWORDS = frozenset(
    {
        "$ref",
        "type",
        "enum",
        "const",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "prefixItems",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "pattern",
        "minLength",
        "maxLength",
        "anyOf",
        "oneOf",
        "allOf",
    }
)
ANNOTATIONS = frozenset(
    {
        "description",
        "title",
        "format",
        "default",
        "examples",
        "example",
        "deprecated",
        "readOnly",
        "writeOnly",
        "contentMediaType",
        "contentEncoding",
        "contentSchema",
        "$schema",
        "$id",
        "$comment",
    }
)
_TYPES: dict[str, Any] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    ),
}
_PARAM = re.compile(r"^\{[^{}/]+\}$")


def show(value: Any, limit: int = 80) -> str:
    """A short JSON rendering of ``value`` for a problem message."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def template_key(template: str) -> str:
    """``/session/{sessionID}/message`` → ``/session/{}/message``: templates compare by shape."""
    return "/".join("{}" if _PARAM.match(seg) else seg for seg in template.split("/"))


class Spec:
    """One OpenAPI document (the parsed JSON of ``GET /doc``)."""

    METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.paths: dict[str, dict[str, Any]] = doc.get("paths") or {}
        self._by_key = {template_key(t): t for t in self.paths}

    # -- routes -------------------------------------------------------------------------

    def operations(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every ``(METHOD, template, operation)`` in the document."""
        for template, item in self.paths.items():
            for method in self.METHODS:
                if isinstance(item.get(method), dict):
                    yield method.upper(), template, item[method]

    def template_for(self, shape: str) -> str | None:
        """The document's template with this shape (``/session/{}`` → ``/session/{sessionID}``)."""
        return self._by_key.get(template_key(shape))

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        """The template a concrete path belongs to, and its path parameters."""
        segments = path.split("/")
        best: tuple[tuple[bool, ...], str, dict[str, str]] | None = None
        for template in self.paths:
            parts = template.split("/")
            if len(parts) != len(segments):
                continue
            params: dict[str, str] = {}
            rank: list[bool] = []
            for part, seg in zip(parts, segments, strict=True):
                if _PARAM.match(part):
                    if not seg:
                        break
                    params[part[1:-1]] = seg
                    rank.append(True)
                elif part == seg:
                    rank.append(False)
                else:
                    break
            else:
                # False (literal) sorts before True (parameter): the most literal match wins.
                if best is None or tuple(rank) < best[0]:
                    best = (tuple(rank), template, params)
        return None if best is None else (best[1], best[2])

    def operation(self, method: str, template: str) -> dict[str, Any] | None:
        op = self.paths.get(template, {}).get(method.lower())
        return op if isinstance(op, dict) else None

    def parameters(self, method: str, template: str) -> list[dict[str, Any]]:
        """The operation's parameters, with the path item's own ones it does not override."""
        item = self.paths.get(template, {})
        op = self.operation(method, template) or {}
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in [*item.get("parameters", []), *op.get("parameters", [])]:
            param = self.resolve(raw)
            found[(param.get("in", ""), param.get("name", ""))] = param
        return list(found.values())

    def body_schema(self, method: str, template: str) -> dict[str, Any] | None:
        op = self.operation(method, template) or {}
        body = op.get("requestBody")
        if body is None:
            return None
        body = self.resolve(body)
        media = (body.get("content") or {}).get("application/json")
        return None if media is None else media.get("schema", {})

    # -- requests -----------------------------------------------------------------------

    def check_request(
        self,
        method: str,
        path: str,
        query: Iterable[tuple[str, str]] = (),
        body: Any = NO_BODY,
    ) -> list[str]:
        """Every way this request departs from the spec (``[]`` if it fits)."""
        method = method.upper()
        found = self.match(path)
        if found is None:
            return [f"{method} {path}: no path in the spec matches"]
        template, path_params = found
        route = f"{method} {template}"
        op = self.operation(method, template)
        if op is None:
            declared = sorted(m.upper() for m in self.paths[template] if m in self.METHODS)
            return [f"{route}: the spec has no {method} on {template} (only {', '.join(declared)})"]
        problems: list[str] = []
        params = self.parameters(method, template)
        for param in params:
            if param.get("in") == "path" and param.get("name") in path_params:
                where = f"{route}: path parameter {param['name']}"
                problems += self.validate(param.get("schema", {}), path_params[param["name"]], where)
        declared = {p["name"]: p for p in params if p.get("in") == "query"}
        sent = list(query)
        for name, value in sent:
            param = declared.get(name)
            if param is None:
                known = ", ".join(sorted(declared)) or "none"
                problems.append(f"{route}: query parameter {name!r} is not declared (declared: {known})")
                continue
            problems += self.validate_text(param.get("schema", {}), value, f"{route}: query {name}")
        names = {name for name, _ in sent}
        for name, param in declared.items():
            if param.get("required") and name not in names:
                problems.append(f"{route}: required query parameter {name!r} is missing")
        problems += self._check_body(route, method, template, body)
        return problems

    def _check_body(self, route: str, method: str, template: str, body: Any) -> list[str]:
        op = self.operation(method, template) or {}
        declared = op.get("requestBody")
        if declared is None:
            if body is NO_BODY:
                return []
            return [f"{route}: sends a body {show(body)}, but the spec declares none"]
        if body is NO_BODY:
            if self.resolve(declared).get("required"):
                return [f"{route}: the spec requires a body, none was sent"]
            return []
        schema = self.body_schema(method, template)
        if schema is None:
            types = ", ".join(self.resolve(declared).get("content") or {}) or "nothing"
            return [f"{route}: sends JSON, but the body is declared as {types}"]
        return self.validate(schema, body, f"{route}: body")

    # -- schemas ------------------------------------------------------------------------

    def resolve(self, node: Any) -> Any:
        """``node`` with its ``$ref`` chain followed (sibling keywords kept, the ref's own
        ones winning only where the node says nothing)."""
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise ValueError(f"$ref cycle at {ref}")
            seen.add(ref)
            target = self.pointer(ref)
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            node = {**target, **siblings} if siblings else target
        return node

    def pointer(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise ValueError(f"only local $refs are supported, not {ref!r}")
        node: Any = self.doc
        for raw in ref[2:].split("/"):
            key = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, list):
                node = node[int(key)]
            elif isinstance(node, dict) and key in node:
                node = node[key]
            else:
                raise ValueError(f"$ref {ref!r} points at nothing")
        return node

    def validate(self, schema: Any, value: Any, where: str) -> list[str]:
        """The problems of ``value`` against ``schema``; each starts with ``where``."""
        if schema is True or schema == {}:
            return []
        if schema is False:
            return [f"{where}: nothing is allowed here, got {show(value)}"]
        schema = self.resolve(schema)
        problems: list[str] = []

        declared = schema.get("type")
        if declared is not None:
            names = declared if isinstance(declared, list) else [declared]
            if not any(_TYPES.get(n, lambda _v: False)(value) for n in names):
                return [f"{where}: expected {' or '.join(names)}, got {show(value)}"]
        if "enum" in schema and not any(_same(value, e) for e in schema["enum"]):
            problems.append(f"{where}: {show(value)} is not one of {show(schema['enum'])}")
        if "const" in schema and not _same(value, schema["const"]):
            problems.append(f"{where}: expected {show(schema['const'])}, got {show(value)}")

        if isinstance(value, str):
            problems += _check_string(schema, value, where)
        if _TYPES["number"](value):
            problems += _check_number(schema, value, where)
        if isinstance(value, list):
            problems += self._check_array(schema, value, where)
        if isinstance(value, dict):
            problems += self._check_object(schema, value, where)

        for sub in schema.get("allOf", []):
            problems += self.validate(sub, value, where)
        if "anyOf" in schema:
            problems += self._check_alternatives(schema["anyOf"], value, where, "anyOf")
        if "oneOf" in schema:
            problems += self._check_alternatives(schema["oneOf"], value, where, "oneOf")
        return problems

    def validate_text(self, schema: Any, text: str, where: str) -> list[str]:
        """A query or path value: it travels as text, so ``"20"`` fits ``integer`` and
        ``"true"`` fits ``boolean``. Problems are those of the most specific reading."""
        readings: list[Any] = [text]
        if re.fullmatch(r"-?\d+", text):
            readings.append(int(text))
        else:
            try:
                number = float(text)
            except ValueError:
                pass
            else:
                if math.isfinite(number):
                    readings.append(number)
        if text in ("true", "false"):
            readings.append(text == "true")
        results = [self.validate(schema, reading, where) for reading in readings]
        if any(not r for r in results):
            return []
        return results[-1]

    def _check_array(self, schema: dict[str, Any], value: list[Any], where: str) -> list[str]:
        problems: list[str] = []
        if "minItems" in schema and len(value) < schema["minItems"]:
            problems.append(f"{where}: {len(value)} items, at least {schema['minItems']} needed")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(f"{where}: {len(value)} items, at most {schema['maxItems']} allowed")
        prefix = schema.get("prefixItems", [])
        for i, (sub, item) in enumerate(zip(prefix, value, strict=False)):
            problems += self.validate(sub, item, f"{where}[{i}]")
        items = schema.get("items")
        if items is not None:
            for i, item in enumerate(value[len(prefix) :], start=len(prefix)):
                problems += self.validate(items, item, f"{where}[{i}]")
        return problems

    def _check_object(self, schema: dict[str, Any], value: dict[str, Any], where: str) -> list[str]:
        problems: list[str] = []
        props: dict[str, Any] = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                problems.append(f"{where}: required key {key!r} is missing")
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                problems += self.validate(props[key], item, f"{where}.{key}")
            elif extra is False:
                known = ", ".join(sorted(props)) or "none"
                problems.append(f"{where}: key {key!r} is not in the schema (allowed: {known})")
            elif isinstance(extra, dict):
                problems += self.validate(extra, item, f"{where}.{key}")
        return problems

    def _check_alternatives(self, options: list[Any], value: Any, where: str, kind: str) -> list[str]:
        results = [self.validate(sub, value, where) for sub in options]
        fits = [i for i, r in enumerate(results) if not r]
        if kind == "oneOf" and len(fits) > 1:
            names = ", ".join(self._label(options[i]) for i in fits)
            return [f"{where}: fits more than one oneOf alternative ({names})"]
        if fits:
            return []
        # Say why the nearest alternative failed: that is almost always the one meant.
        best = min(range(len(options)), key=lambda i: len(results[i]))
        head = f"{where}: fits none of the {kind} alternatives; nearest is {self._label(options[best])}:"
        return [head, *(f"  {p}" for p in results[best])]

    def _label(self, schema: Any) -> str:
        if isinstance(schema, dict) and "$ref" in schema:
            return schema["$ref"].rsplit("/", 1)[-1]
        return show(schema, 60)

    def unknown_keywords(self, schema: Any) -> set[str]:
        """Keywords under ``schema`` (refs followed) that this checker would ignore but
        that are not mere annotations: each one is a constraint left unchecked."""
        found: set[str] = set()
        seen: set[str] = set()

        def walk(node: Any) -> None:
            if not isinstance(node, dict):
                return
            if "$ref" in node:
                ref = node["$ref"]
                if ref in seen:
                    return
                seen.add(ref)
                walk(self.pointer(ref))
            found.update(k for k in node if k not in VALIDATION_KEYWORDS and k not in ANNOTATIONS)
            for key in ("items", "additionalProperties"):
                walk(node.get(key))
            for key in ("properties",):
                for sub in (node.get(key) or {}).values():
                    walk(sub)
            for key in ("prefixItems", "anyOf", "oneOf", "allOf"):
                for sub in node.get(key) or []:
                    walk(sub)

        walk(schema)
        return found


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``True`` is not ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _check_string(schema: dict[str, Any], value: str, where: str) -> list[str]:
    problems: list[str] = []
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        problems.append(f"{where}: {show(value)} does not match the pattern {schema['pattern']!r}")
    if "minLength" in schema and len(value) < schema["minLength"]:
        problems.append(f"{where}: {show(value)} is shorter than {schema['minLength']}")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        problems.append(f"{where}: {show(value)} is longer than {schema['maxLength']}")
    return problems


def _check_number(schema: dict[str, Any], value: float, where: str) -> list[str]:
    problems: list[str] = []
    if "minimum" in schema and value < schema["minimum"]:
        problems.append(f"{where}: {value} is below the minimum {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        problems.append(f"{where}: {value} is above the maximum {schema['maximum']}")
    low = schema.get("exclusiveMinimum")
    if isinstance(low, int | float) and not isinstance(low, bool) and value <= low:
        problems.append(f"{where}: {value} is not above {low}")
    high = schema.get("exclusiveMaximum")
    if isinstance(high, int | float) and not isinstance(high, bool) and value >= high:
        problems.append(f"{where}: {value} is not below {high}")
    return problems
