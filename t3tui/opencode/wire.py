"""Pydantic v2 models of what t3tui reads from an opencode server.

Every model accepts unknown fields (``extra="allow"``): the server adds fields between
versions and a client that rejects them breaks on upgrade. Optional fields default to
``None`` so that partial payloads (a ``sync`` payload without ``properties``, a heartbeat
without ``directory``) still parse.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter


class Wire(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Lean(BaseModel):
    """A wire model kept by the thousand in a long thread: unknown fields are accepted
    but not kept, which halves the store's memory for a 5,000-turn thread."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


# An optional time (or other optional number) from the server. JSON from the server can
# hold ``NaN`` and ``Infinity`` (Python's json accepts them): a time that is not a
# number is no time at all, so it becomes None, like a missing one.
Time = Annotated[float | None, AfterValidator(_finite)]


# --- envelope -------------------------------------------------------------------------


class Payload(Wire):
    id: str | None = None
    type: str
    properties: dict[str, Any] | None = None


class GlobalEvent(Wire):
    """One ``data:`` line of ``GET /global/event``."""

    directory: str | None = None
    project: str | None = None
    workspace: str | None = None
    payload: Payload


# --- sessions -------------------------------------------------------------------------


class SessionTime(Wire):
    created: Time = None
    updated: Time = None
    compacting: Time = None
    archived: Time = None


class ModelRef(Wire):
    id: str | None = None
    providerID: str | None = None
    modelID: str | None = None
    variant: str | None = None


class SessionRevert(Wire):
    """``Session.revert``: an undo (``POST /session/{id}/revert``) holds the messages from
    ``messageID`` on as reverted until ``unrevert`` or the next prompt removes them."""

    messageID: str
    partID: str | None = None


def _revert(value: Any) -> Any:
    """A revert the client can use, or None: a malformed ``revert`` (not an object, no
    message id) must not make the whole session unreadable."""
    if not isinstance(value, dict):
        return None
    mid = value.get("messageID")
    if not isinstance(mid, str) or not mid:
        return None
    part = value.get("partID")
    return {**value, "partID": part if isinstance(part, str) else None}


class Session(Wire):
    id: str
    slug: str | None = None
    projectID: str | None = None
    directory: str | None = None
    title: str | None = None
    version: str | None = None
    parentID: str | None = None
    agent: str | None = None
    model: ModelRef | None = None
    time: SessionTime = Field(default_factory=SessionTime)
    revert: Annotated[SessionRevert | None, BeforeValidator(_revert)] = None


class StatusIdle(Wire):
    type: Literal["idle"]


class StatusBusy(Wire):
    type: Literal["busy"]


class StatusRetry(Wire):
    type: Literal["retry"]
    attempt: int = 0
    message: str = ""
    next: Time = None
    action: dict[str, Any] | None = None


SessionStatus = StatusIdle | StatusBusy | StatusRetry


# --- messages -------------------------------------------------------------------------


class ErrorData(Lean):
    message: str | None = None


class MessageError(Lean):
    name: str = "UnknownError"
    data: ErrorData | None = None

    @property
    def text(self) -> str:
        if self.data is not None and self.data.message:
            return self.data.message
        return self.name

    @property
    def aborted(self) -> bool:
        return self.name == "MessageAbortedError"


class MessageTime(Lean):
    created: Time = None
    completed: Time = None


class Message(Lean):
    id: str
    sessionID: str | None = None
    role: Literal["user", "assistant"] | str
    parentID: str | None = None
    time: MessageTime = Field(default_factory=MessageTime)
    error: MessageError | None = None
    finish: str | None = None
    agent: str | None = None
    model: ModelRef | None = None
    modelID: str | None = None
    providerID: str | None = None
    # Read by state/work.py, whatever their shape: an answer's tokens and cost, a
    # prompt's summary (its turn's diffs; ``true`` on a compaction's answer).
    cost: Any = None
    tokens: Any = None
    summary: Any = None


# --- parts ----------------------------------------------------------------------------


class PartTime(Lean):
    start: Time = None
    end: Time = None


class PartBase(Lean):
    id: str
    sessionID: str | None = None
    messageID: str
    type: str


class TextPart(PartBase):
    type: Literal["text"]
    text: str = ""
    time: PartTime | None = None
    synthetic: bool | None = None
    ignored: bool | None = None


class ReasoningPart(PartBase):
    type: Literal["reasoning"]
    text: str = ""
    time: PartTime | None = None


class ToolState(Lean):
    status: Literal["pending", "running", "completed", "error"] | str = "pending"
    input: dict[str, Any] | None = None
    raw: str | None = None
    output: str | None = None
    title: str | None = None
    error: str | None = None
    metadata: dict[str, Any] | None = None
    time: PartTime | None = None


class ToolPart(PartBase):
    model_config = ConfigDict(extra="allow")

    type: Literal["tool"]
    callID: str | None = None
    tool: str = ""
    state: ToolState = Field(default_factory=ToolState)


class StepStartPart(PartBase):
    type: Literal["step-start"]
    snapshot: str | None = None


class StepFinishPart(PartBase):
    type: Literal["step-finish"]
    reason: str | None = None
    cost: float | None = None
    tokens: dict[str, Any] | None = None


class OpaquePart(PartBase):
    """Any other part type (file, patch, subtask, retry, …), kept as it came."""

    model_config = ConfigDict(extra="allow")


_PART_TYPES: dict[str, type[PartBase]] = {
    "text": TextPart,
    "reasoning": ReasoningPart,
    "tool": ToolPart,
    "step-start": StepStartPart,
    "step-finish": StepFinishPart,
}


def parse_part(data: Any) -> PartBase:
    """Parse a part by its ``type``; unknown types become :class:`OpaquePart`."""
    kind = data.get("type") if isinstance(data, dict) else None
    return _PART_TYPES.get(kind, OpaquePart).model_validate(data)  # type: ignore[arg-type]


# --- permissions and questions --------------------------------------------------------


class ToolRef(Wire):
    messageID: str | None = None
    callID: str | None = None


class PermissionRequest(Wire):
    id: str
    sessionID: str
    permission: str | None = None
    patterns: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] | None = None
    always: list[str] = Field(default_factory=list)
    tool: ToolRef | None = None


class QuestionOption(Wire):
    label: str
    description: str | None = None


class QuestionInfo(Wire):
    question: str = ""
    header: str | None = None
    options: list[QuestionOption] = Field(default_factory=list)
    multiple: bool | None = None
    custom: bool | None = None


class QuestionRequest(Wire):
    id: str
    sessionID: str
    questions: list[QuestionInfo] = Field(default_factory=list)
    tool: ToolRef | None = None


SessionListAdapter: TypeAdapter[list[Session]] = TypeAdapter(list[Session])


# --- providers ------------------------------------------------------------------------


class ProviderModel(Wire):
    id: str | None = None
    name: str | None = None


class Provider(Wire):
    id: str
    name: str | None = None
    env: list[str] = Field(default_factory=list)
    models: dict[str, ProviderModel] = Field(default_factory=dict)

    @property
    def display_name(self) -> str:
        return self.name or self.id


class ProviderList(Wire):
    """``GET /provider``: every provider, which are connected, and default models."""

    all: list[Provider] = Field(default_factory=list)
    default: dict[str, str] = Field(default_factory=dict)
    connected: list[str] = Field(default_factory=list)


class ProviderAuthMethod(Wire):
    type: Literal["api", "oauth"] | str
    label: str | None = None


ProviderAuthAdapter: TypeAdapter[dict[str, list[ProviderAuthMethod]]] = TypeAdapter(
    dict[str, list[ProviderAuthMethod]]
)


# --- dispose --------------------------------------------------------------------------


class DisposeResult(Wire):
    """Normalised answer of ``POST /global/dispose``.

    opencode answers ``true``; forks that defer while runs are active answer
    ``{status, lifecycleActionID, affectedDirectoryKeys}``.
    """

    status: Literal["completed", "deferred"] | str = "completed"
    lifecycleActionID: str | None = None
    affectedDirectoryKeys: list[str] = Field(default_factory=list)

    @classmethod
    def from_wire(cls, data: Any) -> DisposeResult:
        if data is True:
            return cls(status="completed")
        if isinstance(data, dict):
            return cls.model_validate(data)
        raise ValueError(f"unexpected dispose answer: {data!r}")

    @property
    def deferred(self) -> bool:
        return self.status == "deferred"


class Health(Wire):
    healthy: bool | None = None
    version: str | None = None
