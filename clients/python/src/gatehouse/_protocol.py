"""The gateway's HTTP API as data: what each call sends, and how an answer becomes a value or a typed error.

Shared by the sync and async clients, which differ only in how they send a :class:`Call`.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Union
from urllib.parse import quote, urlsplit

import httpx

from . import __about__
from .errors import ConfigurationError, Context, GatewayUnreachableError, MissingCredentialError, ProtocolError, error_from_problem
from .models import BudgetOverride, Mandate, Proposal

URL_ENV = "GATEHOUSE_URL"
TOKEN_ENV = "GATEHOUSE_AGENT_TOKEN"
DEFAULT_WAIT_SECONDS = 25.0
MAX_WAIT_SECONDS = 60.0
DEFAULT_TIMEOUT_SECONDS = 30.0

BudgetLike = Union[BudgetOverride, Mapping[str, int]]
MandateLike = Union[Mandate, Mapping[str, Any]]


@dataclass(frozen=True)
class Settings:
    url: str
    token: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    @property
    def headers(self) -> dict[str, str]:
        return {
            "authorization": f"Bearer {self.token}",
            "accept": "application/json, application/problem+json",
            "user-agent": f"gatehouse-client-python/{__about__.VERSION}",
        }


def resolve_settings(url: Optional[str], token: Optional[str], timeout: float) -> Settings:
    """The gateway URL and agent credential: the arguments, else ``GATEHOUSE_URL`` / ``GATEHOUSE_AGENT_TOKEN``."""
    resolved_url = (url or os.environ.get(URL_ENV) or "").strip()
    if not resolved_url:
        raise ConfigurationError(
            f"no gateway URL: set `{URL_ENV}` (the `gateway` address `npm start` prints) or pass `url`",
            type="urn:gatehouse:problem:missing-url",
        )
    resolved_token = (token or os.environ.get(TOKEN_ENV) or "").strip()
    if not resolved_token:
        raise MissingCredentialError(
            f"no agent credential: set `{TOKEN_ENV}` (from `gatehouse agents create <agentId> --owner <person>`) or pass `token`",
            type="urn:gatehouse:problem:missing-credential",
        )
    return Settings(url=resolved_url.rstrip("/"), token=resolved_token, timeout=timeout)


@dataclass(frozen=True)
class Call:
    """One request to the gateway. ``hold`` is how long the gateway may hold it (``?wait=``), added to the read timeout."""

    method: str
    path: str
    context: Context
    json: Optional[dict[str, Any]] = None
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    hold: float = 0.0
    proposal_id: Optional[str] = None
    """The proposal this request sends or reads: a ``GatewayUnreachableError`` names it, so the caller can read its outcome."""

    def timeout(self, base: float) -> httpx.Timeout:
        return httpx.Timeout(base, read=base + self.hold)


def _segment(value: str) -> str:
    return quote(value, safe="")


def _session_path(session_id: str, *rest: str) -> str:
    return "/".join(["/v1/sessions", _segment(session_id), *rest])


def check_wait(wait: float) -> float:
    """``wait`` if the gateway accepts it (0 to 60 seconds); else a ``ValueError``."""
    if not 0 <= wait <= MAX_WAIT_SECONDS:
        raise ValueError(f"wait must be between 0 and {MAX_WAIT_SECONDS:g} seconds, not {wait!r}")
    return wait


def _wait_param(wait: float) -> str:
    return f"{check_wait(wait):g}"


def _update_id() -> dict[str, str]:
    """A fresh ``Idempotency-Key``: the gateway uses it as the update id, so a resent request is the same update."""
    return {"idempotency-key": new_proposal_id()}


def new_proposal_id() -> str:
    """A fresh update id (a uuid), for a proposal or spawn the caller named none for."""
    return uuid.uuid4().hex


_PROPOSAL_ID = re.compile(r"[\w.:-]{1,200}", re.ASCII)


def check_proposal_id(proposal_id: str) -> str:
    """``proposal_id`` if the gateway accepts it as an ``Idempotency-Key`` (1 to 200 letters, digits or ``.:_-``); else a ``ValueError``."""
    if not _PROPOSAL_ID.fullmatch(proposal_id):
        raise ValueError(f"proposal_id must be 1 to 200 letters, digits or `.:_-`, not {proposal_id!r}")
    return proposal_id


def _model_or_mapping(value: Union[BudgetOverride, Mandate, Mapping[str, Any]], model: type[BudgetOverride] | type[Mandate]) -> dict[str, Any]:
    parsed = value if isinstance(value, model) else model.model_validate(dict(value))
    return parsed.to_wire()


def start_call(
    intent: str,
    *,
    session_id: Optional[str] = None,
    policy_ref: Optional[str] = None,
    budget: Optional[BudgetLike] = None,
    mandate: Optional[MandateLike] = None,
) -> Call:
    body: dict[str, Any] = {"intent": intent}
    if session_id is not None:
        body["sessionId"] = session_id
    if policy_ref is not None:
        body["policyRef"] = policy_ref
    if budget is not None:
        body["budget"] = _model_or_mapping(budget, BudgetOverride)
    if mandate is not None:
        body["mandate"] = _model_or_mapping(mandate, Mandate)
    return Call("POST", "/v1/sessions", "start", json=body)


def propose_call(session_id: str, proposal: Proposal, wait: float, proposal_id: str) -> Call:
    """The proposal, sent with ``proposal_id`` as its ``Idempotency-Key`` (the gateway's update id)."""
    return Call(
        "POST",
        _session_path(session_id, "proposals"),
        "propose",
        json=proposal.to_wire(),
        params={"wait": _wait_param(wait)},
        headers={"idempotency-key": proposal_id},
        hold=wait,
        proposal_id=proposal_id,
    )


def poll_call(session_id: str, proposal_id: str, wait: float, *, of_proposal: bool = False) -> Call:
    """A read of the outcome of update ``proposal_id``; ``of_proposal`` (not a spawn's) names it on an unanswered read."""
    return Call(
        "GET",
        _session_path(session_id, "proposals", _segment(proposal_id)),
        "poll",
        params={"wait": _wait_param(wait)},
        hold=wait,
        proposal_id=proposal_id if of_proposal else None,
    )


def state_call(session_id: str) -> Call:
    return Call("GET", _session_path(session_id), "session")


def spawn_call(session_id: str, agent_id: str, intent: str, mandate: Optional[MandateLike], wait: float) -> Call:
    body: dict[str, Any] = {"agentId": agent_id, "intent": intent}
    if mandate is not None:
        body["mandate"] = _model_or_mapping(mandate, Mandate)
    return Call("POST", _session_path(session_id, "children"), "spawn", json=body, params={"wait": _wait_param(wait)}, headers=_update_id(), hold=wait)


END_HOLD_SECONDS = 60.0
"""How long the gateway holds an `end` before answering 202 (it runs after every earlier proposal)."""


def end_call(session_id: str, reason: Optional[str]) -> Call:
    return Call("POST", _session_path(session_id, "end"), "session", json={} if reason is None else {"reason": reason}, hold=END_HOLD_SECONDS)


def halt_call(session_id: str, reason: str) -> Call:
    return Call("POST", _session_path(session_id, "halt"), "session", json={"reason": reason})


def decode(call: Call, response: httpx.Response) -> Any:
    """The JSON body of a 2xx answer (``None`` when empty), or the typed error of any other answer.

    A redirect is not followed (it would send the credential and the call to wherever it points):
    it is a ``GatewayUnreachableError``, as in the TypeScript client.
    """
    if response.is_redirect:
        raise GatewayUnreachableError(
            f"{call.method} {shown_origin(str(response.request.url))}{call.path} failed: unexpected redirect (HTTP {response.status_code}), not followed",
            type="urn:gatehouse:problem:unreachable",
            proposal_id=call.proposal_id,
        )
    if response.is_success:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as err:
            raise ProtocolError(
                f"{call.method} {call.path}: the gateway answered HTTP {response.status_code} with a body that is not JSON",
                status=response.status_code,
            ) from err
    body: Any
    try:
        body = response.json()
    except ValueError:
        body = response.text
    raise error_from_problem(response.status_code, body, response.headers.get("retry-after"), call.context)


def shown_origin(url: str) -> str:
    """The scheme, host and port of ``url``, without any ``user:password@`` it carries (for messages)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}" if parts.scheme and host else "(the gateway URL)"


def unreachable(call: Call, url: str, err: httpx.TransportError) -> GatewayUnreachableError:
    """The error for a request that got no answer (connection refused, timed out, ...), naming the gateway's origin."""
    what = "timed out" if isinstance(err, httpx.TimeoutException) else "failed"
    return GatewayUnreachableError(
        f"{call.method} {shown_origin(url)}{call.path} {what}: {err!s} ({type(err).__name__})",
        type="urn:gatehouse:problem:unreachable",
        proposal_id=call.proposal_id,
    )


def build_request_kwargs(call: Call, timeout: float) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"params": call.params or None, "headers": call.headers or None, "timeout": call.timeout(timeout)}
    if call.json is not None:
        kwargs["json"] = call.json
    return kwargs
