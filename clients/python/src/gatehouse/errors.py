"""Typed errors of the Gatehouse client, mirroring the TypeScript client's (`client/errors.ts`).

The gateway answers errors as RFC 9457 ``application/problem+json``
``{type: "urn:gatehouse:problem:<code>", title, status, detail, ...}`` (codes in
`gateway/problems.ts`); :func:`error_from_problem` maps one to the most specific class here.
Every class derives from :class:`GatehouseError`, which carries the problem's ``type``,
``status``, ``title``, ``detail``, ``retry_after`` and the whole ``problem`` body.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Mapping, Optional

from .models import SpawnChildResult

PROBLEM_PREFIX = "urn:gatehouse:problem:"


class GatehouseError(Exception):
    """Base of every error the client raises for an answer of the gateway, or for a call it could not make."""

    def __init__(
        self,
        detail: str,
        *,
        type: str = "about:blank",
        status: Optional[int] = None,
        title: Optional[str] = None,
        problem: Optional[Mapping[str, Any]] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(detail)
        self.type = type
        self.status = status
        self.title = title
        self.detail = detail
        self.problem: dict[str, Any] = dict(problem or {})
        self.retry_after = retry_after
        """Seconds the gateway asked to wait before trying again (``Retry-After``), when it said."""

    @property
    def code(self) -> str:
        """The stable part of ``type`` after ``urn:gatehouse:problem:`` (``type`` itself without that prefix)."""
        return self.type[len(PROBLEM_PREFIX):] if self.type.startswith(PROBLEM_PREFIX) else self.type

    @property
    def rule(self) -> Optional[str]:
        """The rule the gateway or worker named (e.g. ``credential.expired``, ``policy.not-allowed``), when it did."""
        value = self.problem.get("rule")
        return value if isinstance(value, str) else None

    def __str__(self) -> str:
        status = f"{self.status} " if self.status is not None else ""
        return f"{status}{self.code}: {self.detail}"


class ConfigurationError(GatehouseError):
    """The client cannot be set up: no gateway URL."""


class MissingCredentialError(GatehouseError):
    """No agent credential: set ``GATEHOUSE_AGENT_TOKEN`` (from ``gatehouse agents create``) or pass ``token``."""


class AuthenticationError(GatehouseError):
    """401: no credential, or one the gateway does not accept (bad signature, expired, revoked)."""


class ForbiddenError(GatehouseError):
    """403: the credential may not do this (e.g. act on another agent's session)."""


class SessionStartRefusedError(ForbiddenError):
    """403: the worker refused the start (credential, policy, identity, parent); ``rule`` names why."""


class SubAgentDeniedError(SessionStartRefusedError):
    """``spawn_child``: the sub-agent was denied or its approval expired; ``result`` says why."""

    @classmethod
    def of(cls, result: SpawnChildResult) -> "SubAgentDeniedError":
        """The error for a spawn result whose status is not ``started``."""
        reasons = "; ".join(r.message for r in result.reasons) or result.status
        return cls(
            f"sub-agent `{result.session_id}` was not started: {reasons}",
            type=f"{PROBLEM_PREFIX}start-refused",
            problem={"result": result.to_wire()},
        )

    @property
    def result(self) -> Optional[SpawnChildResult]:
        value = self.problem.get("result")
        return SpawnChildResult.model_validate(value) if isinstance(value, Mapping) else None


class NotFoundError(GatehouseError):
    """404 on something other than a session (e.g. an unknown proposal id)."""


class SessionNotFoundError(NotFoundError):
    """404: no session of this id."""


class ConflictError(GatehouseError):
    """409."""


class SessionClosedError(ConflictError):
    """409: the session has ended or was halted; it accepts nothing more."""


class SessionExistsError(ConflictError):
    """409 on a start: a session with this id already exists (session ids are never reused)."""


class ProposalTooLargeError(GatehouseError):
    """413: the request body is over the gateway's size cap."""


class InvalidRequestError(GatehouseError):
    """422 (or 415): the request does not match the gateway's schema; ``errors`` lists what is wrong and where."""

    @property
    def errors(self) -> list[dict[str, Any]]:
        value = self.problem.get("errors")
        return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


class InvalidProposalError(InvalidRequestError):
    """422 on a proposal: it is not a proposal at all (bad shape, too large, unknown fields); nothing was decided."""


class RateLimitedError(GatehouseError):
    """429: too many requests or open sessions for this agent; ``retry_after`` says how long to wait."""


class ServiceUnavailableError(GatehouseError):
    """503: the gateway cannot reach Temporal right now; ``retry_after`` says when to try again."""


class GatewayUnreachableError(GatehouseError):
    """The request got no answer: the gateway is not running at that URL, it timed out, or the connection dropped.

    From ``propose`` or ``wait_for``, ``proposal_id`` names the proposal: it may have reached the
    gateway (and run), so read its outcome with ``session.wait_for(err.proposal_id)`` rather than
    proposing it again.
    """

    def __init__(self, detail: str, *, proposal_id: Optional[str] = None, **fields: Any) -> None:
        super().__init__(detail, **fields)
        self.proposal_id = proposal_id
        """The proposal the request sent or read (its ``Idempotency-Key``); ``None`` for any other call."""


class ProtocolError(GatehouseError):
    """The gateway answered something this client does not understand (not JSON, an unexpected shape)."""


Context = Literal["start", "session", "propose", "spawn", "poll", "other"]
"""What a request was, for answers whose code alone is ambiguous: a 404 on a call on a session is an
unknown session, on a poll an unknown proposal (or session); a 422 on a proposal is an invalid
proposal; a refused start on a spawn is a denied sub-agent."""

_BY_CODE: dict[str, type[GatehouseError]] = {
    "unauthorized": AuthenticationError,
    "forbidden": ForbiddenError,
    "forbidden-origin": ForbiddenError,
    "start-refused": SessionStartRefusedError,
    "not-found": NotFoundError,
    "session-exists": SessionExistsError,
    "session-closed": SessionClosedError,
    "body-too-large": ProposalTooLargeError,
    "unsupported-media-type": InvalidRequestError,
    "invalid-request": InvalidRequestError,
    "invalid-proposal": InvalidProposalError,
    "rate-limited": RateLimitedError,
    "too-many-sessions": RateLimitedError,
    "too-many-in-flight": RateLimitedError,
    "unavailable": ServiceUnavailableError,
}

_BY_STATUS: dict[int, type[GatehouseError]] = {
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: ProposalTooLargeError,
    415: InvalidRequestError,
    422: InvalidRequestError,
    429: RateLimitedError,
    503: ServiceUnavailableError,
}


def _class_for(code: str, status: int, context: Context) -> type[GatehouseError]:
    cls = _BY_CODE.get(code) or _BY_STATUS.get(status, GatehouseError)
    if cls is NotFoundError and context in ("session", "propose", "spawn"):
        return SessionNotFoundError
    if cls is InvalidRequestError and status == 422 and context == "propose":
        return InvalidProposalError
    if cls is SessionStartRefusedError and context == "spawn":
        return SubAgentDeniedError
    return cls


def parse_retry_after(value: Optional[str], now: Optional[datetime] = None) -> Optional[float]:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date (``None`` when absent or unreadable)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def error_from_problem(status: int, body: Any, retry_after: Optional[str] = None, context: Context = "other") -> GatehouseError:
    """The typed error of an error answer: ``body`` is its parsed problem+json (or whatever else it was)."""
    problem: dict[str, Any] = dict(body) if isinstance(body, Mapping) else {}
    raw_type, raw_title, raw_detail = problem.get("type"), problem.get("title"), problem.get("detail")
    type_ = raw_type if isinstance(raw_type, str) else "about:blank"
    code = type_[len(PROBLEM_PREFIX):] if type_.startswith(PROBLEM_PREFIX) else ""
    title = raw_title if isinstance(raw_title, str) else None
    if isinstance(raw_detail, str) and raw_detail:
        detail = raw_detail
    elif title:
        detail = title
    elif isinstance(body, str) and body.strip():
        detail = body.strip()[:500]
    else:
        detail = f"the gateway answered HTTP {status}"
    cls = _class_for(code, status, context)
    return cls(detail, type=type_, status=status, title=title, problem=problem, retry_after=parse_retry_after(retry_after))
