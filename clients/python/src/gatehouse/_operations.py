"""Each client operation as a generator of requests (sans I/O), shared by the sync and async clients.

An operation yields :class:`~gatehouse._protocol.Call` s, receives each decoded JSON answer back,
and returns its typed value; the sync client drives it with plain requests, the async one with
awaited ones, so both follow a pending answer the same way.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Generator, Mapping, Optional, TypeVar, Union

from . import _protocol as p
from .errors import ProtocolError, SubAgentDeniedError
from .models import (
    GatehouseModel,
    Pending,
    Proposal,
    ProposeOutcome,
    ProposeResult,
    SessionState,
    SessionSummary,
    SpawnChildResult,
    StartedSession,
)

T = TypeVar("T")
M = TypeVar("M", bound=GatehouseModel)
Operation = Generator[p.Call, Any, T]
SyncSend = Callable[[p.Call], Any]
AsyncSend = Callable[[p.Call], Awaitable[Any]]


def _is_pending(body: Any) -> bool:
    return isinstance(body, dict) and body.get("status") == "pending"


def _parse(model: type[M], body: Any, what: str) -> M:
    if not isinstance(body, dict):
        raise ProtocolError(f"{what}: expected a JSON object from the gateway, got {type(body).__name__}")
    return model.model_validate(body)


def _settle(session_id: str, body: Any, model: type[M], wait: float, follow: bool, of_proposal: bool = False) -> Operation[Union[M, Pending]]:
    """``body`` as ``model``; while it is pending (and ``follow``), reads the update's outcome again, each read held ``wait`` seconds.

    ``of_proposal``: the update is a proposal (not a spawn), named on a ``GatewayUnreachableError`` of those reads.
    """
    hold = wait if wait > 0 else p.DEFAULT_WAIT_SECONDS
    while follow and _is_pending(body):
        pending = Pending.model_validate(body)
        body = yield p.poll_call(session_id, pending.proposal_id, hold, of_proposal=of_proposal)
    if _is_pending(body):
        return Pending.model_validate(body)
    return _parse(model, body, model.__name__)


def _final(session_id: str, body: Any, model: type[M], wait: float) -> Operation[M]:
    value = yield from _settle(session_id, body, model, wait, follow=True)
    assert not isinstance(value, Pending)  # follow=True returns only once the outcome is final
    return value


def start(
    intent: str,
    *,
    session_id: Optional[str],
    policy_ref: Optional[str],
    budget: Optional[p.BudgetLike],
    mandate: Optional[p.MandateLike],
) -> Operation[StartedSession]:
    body = yield p.start_call(intent, session_id=session_id, policy_ref=policy_ref, budget=budget, mandate=mandate)
    return _parse(StartedSession, body, "start_session")


def propose(session_id: str, proposal: Proposal, wait: float, follow: bool, proposal_id: Optional[str] = None) -> Operation[ProposeOutcome]:
    """``proposal_id`` (default a fresh one) is the update id: sent again under it, it is the same proposal."""
    key = p.new_proposal_id() if proposal_id is None else p.check_proposal_id(proposal_id)
    body = yield p.propose_call(session_id, proposal, wait, key)
    return (yield from _settle(session_id, body, ProposeResult, wait, follow, of_proposal=True))


def wait_for(session_id: str, proposal_id: str, wait: float, follow: bool) -> Operation[ProposeOutcome]:
    body = yield p.poll_call(session_id, proposal_id, p.check_wait(wait), of_proposal=True)
    return (yield from _settle(session_id, body, ProposeResult, wait, follow, of_proposal=True))


def state(session_id: str) -> Operation[SessionState]:
    body = yield p.state_call(session_id)
    return _parse(SessionState, body, "state")


def spawn_child(
    session_id: str,
    agent_id: str,
    intent: str,
    mandate: Optional[p.MandateLike],
    wait: float,
) -> Operation[SpawnChildResult]:
    body = yield p.spawn_call(session_id, agent_id, intent, mandate, wait)
    result = yield from _final(session_id, body, SpawnChildResult, wait)
    if result.status != "started":
        raise SubAgentDeniedError.of(result)
    return result


def end(session_id: str, reason: Optional[str]) -> Operation[SessionSummary]:
    body = yield p.end_call(session_id, reason)
    return (yield from _final(session_id, body, SessionSummary, p.DEFAULT_WAIT_SECONDS))


def halt(session_id: str, reason: str) -> Operation[None]:
    yield p.halt_call(session_id, reason)
    return None


def proposal_of(
    tool: str,
    args: Optional[Mapping[str, Any]],
    reasoning: str,
    token_cost: Optional[int],
    idempotency_key: Optional[str],
    request_unlock: Optional[bool],
) -> Proposal:
    return Proposal(
        tool=tool,
        args=dict(args or {}),
        reasoning=reasoning,
        token_cost=token_cost,
        idempotency_key=idempotency_key,
        request_unlock=request_unlock,
    )


def run_sync(operation: Operation[T], send: SyncSend) -> T:
    """Drives ``operation`` with a blocking ``send``."""
    try:
        call = next(operation)
        while True:
            call = operation.send(send(call))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def run_async(operation: Operation[T], send: AsyncSend) -> T:
    """Drives ``operation`` with an awaited ``send``."""
    try:
        call = next(operation)
        while True:
            call = operation.send(await send(call))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
