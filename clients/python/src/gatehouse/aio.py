"""The asynchronous client: :class:`AsyncGatehouse` and its :class:`AsyncSession`, the sync API awaited."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Literal, Mapping, Optional, Union, overload

import httpx

from . import _operations as op
from . import _protocol as p
from ._handles import ClientCore, SessionCore, proposal_id_of
from .errors import SessionClosedError
from .models import Pending, ProposeOutcome, ProposeResult, SessionState, SessionSummary


class AsyncGatehouse(ClientCore):
    """A connection to the Gatehouse gateway, acting as the agent of one credential.

    ``url`` and ``token`` default to ``GATEHOUSE_URL`` and ``GATEHOUSE_AGENT_TOKEN``. ``timeout`` is
    the seconds a request may take on top of the time the gateway is asked to hold it (``wait``).
    ``transport`` (e.g. ``httpx.MockTransport``) replaces the network.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        token: Optional[str] = None,
        *,
        timeout: float = p.DEFAULT_TIMEOUT_SECONDS,
        transport: Optional[httpx.AsyncBaseTransport] = None,
    ) -> None:
        super().__init__(url, token, timeout)
        # A redirect is never followed: it would send the credential and the call to wherever it points.
        self._http = httpx.AsyncClient(
            base_url=self._settings.url, headers=self._settings.headers, transport=transport, follow_redirects=False
        )

    async def _send(self, call: p.Call) -> Any:
        try:
            response = await self._http.request(call.method, call.path, **p.build_request_kwargs(call, self._settings.timeout))
        except httpx.TransportError as err:
            raise p.unreachable(call, self._settings.url, err) from err
        return p.decode(call, response)

    async def _run(self, operation: op.Operation[op.T]) -> op.T:
        return await op.run_async(operation, self._send)

    async def start_session(
        self,
        intent: str,
        *,
        session_id: Optional[str] = None,
        policy_ref: Optional[str] = None,
        budget: Optional[p.BudgetLike] = None,
        mandate: Optional[p.MandateLike] = None,
    ) -> AsyncSession:
        """Starts a session with a declared intent; the agent and owner come from the credential.

        Raises ``SessionExistsError`` when ``session_id`` is taken, ``SessionStartRefusedError`` when
        the worker refused the start (e.g. a ``policy_ref`` the credential does not list).
        """
        started = await self._run(op.start(intent, session_id=session_id, policy_ref=policy_ref, budget=budget, mandate=mandate))
        return AsyncSession(self, started.session_id, started=started)

    def session(self, session_id: str) -> AsyncSession:
        """A handle on an existing session of this agent (sends nothing)."""
        return AsyncSession(self, session_id)

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncGatehouse:
        return self

    async def __aexit__(self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        await self.close()


class AsyncSession(SessionCore[AsyncGatehouse]):
    """One agent session. As an async context manager it ends the session on exit (unless already ended)."""

    @overload
    async def propose(
        self,
        tool: str,
        args: Optional[Mapping[str, Any]] = None,
        reasoning: str = "",
        *,
        wait: float = p.DEFAULT_WAIT_SECONDS,
        wait_for_final: Literal[True] = True,
        token_cost: Optional[int] = None,
        idempotency_key: Optional[str] = None,
        request_unlock: Optional[bool] = None,
        proposal_id: Optional[str] = None,
    ) -> ProposeResult: ...

    @overload
    async def propose(
        self,
        tool: str,
        args: Optional[Mapping[str, Any]] = None,
        reasoning: str = "",
        *,
        wait: float = p.DEFAULT_WAIT_SECONDS,
        wait_for_final: bool,
        token_cost: Optional[int] = None,
        idempotency_key: Optional[str] = None,
        request_unlock: Optional[bool] = None,
        proposal_id: Optional[str] = None,
    ) -> ProposeOutcome: ...

    async def propose(
        self,
        tool: str,
        args: Optional[Mapping[str, Any]] = None,
        reasoning: str = "",
        *,
        wait: float = p.DEFAULT_WAIT_SECONDS,
        wait_for_final: bool = True,
        token_cost: Optional[int] = None,
        idempotency_key: Optional[str] = None,
        request_unlock: Optional[bool] = None,
        proposal_id: Optional[str] = None,
    ) -> ProposeOutcome:
        """Proposes one tool call and returns its outcome.

        The gateway holds the request up to ``wait`` seconds (0 to 60). A call still waiting then —
        held for a person — is followed (``GET .../proposals/{id}``, each held ``wait`` seconds)
        until it is final: executed, denied, failed, or expired at the approval deadline. With
        ``wait_for_final=False`` a :class:`~gatehouse.Pending` comes back instead, for :meth:`wait_for`.

        ``proposal_id`` (default a fresh uuid) is sent as the ``Idempotency-Key``: the gateway takes a
        proposal sent again under the same id as the same proposal (the first one's outcome; the call
        runs at most once). A :class:`~gatehouse.GatewayUnreachableError` carries it as
        ``proposal_id``: the proposal may have reached the gateway, so :meth:`wait_for` reads its
        outcome where proposing again with a new id would send a second one.
        """
        proposal = op.proposal_of(tool, args, reasoning, token_cost, idempotency_key, request_unlock)
        return await self._client._run(op.propose(self.session_id, proposal, wait, wait_for_final, proposal_id))

    @overload
    async def wait_for(self, pending: Union[Pending, str], *, wait: float = p.DEFAULT_WAIT_SECONDS, wait_for_final: Literal[True] = True) -> ProposeResult: ...

    @overload
    async def wait_for(self, pending: Union[Pending, str], *, wait: float = p.DEFAULT_WAIT_SECONDS, wait_for_final: bool) -> ProposeOutcome: ...

    async def wait_for(self, pending: Union[Pending, str], *, wait: float = p.DEFAULT_WAIT_SECONDS, wait_for_final: bool = True) -> ProposeOutcome:
        """The outcome of a pending proposal (a :class:`Pending` or its ``proposal_id``).

        Each read is held up to ``wait`` seconds; with ``wait_for_final`` (the default) it reads
        again until the outcome is final, else it returns after one read (perhaps ``Pending`` again).
        """
        return await self._client._run(op.wait_for(self.session_id, proposal_id_of(pending), wait, wait_for_final))

    async def state(self) -> SessionState:
        """Mode, counters, budget left, pending approvals, last actions."""
        return await self._client._run(op.state(self.session_id))

    async def spawn_child(
        self,
        agent_id: str,
        intent: str,
        *,
        mandate: Optional[p.MandateLike] = None,
        wait: float = p.DEFAULT_WAIT_SECONDS,
    ) -> AsyncSession:
        """Starts a sub-agent session with its own intent and a share of this session's budget.

        Its session id is ``<session id>.<n>`` and its agent id ``<your agent id>/<agent_id>``, both
        chosen by this session.

        Raises :class:`~gatehouse.SubAgentDeniedError` when it was denied or its approval expired.
        """
        spawn = await self._client._run(op.spawn_child(self.session_id, agent_id, intent, mandate, wait))
        return AsyncSession(self._client, spawn.session_id, spawn=spawn)

    async def end(self, reason: Optional[str] = None) -> SessionSummary:
        """Ends the session once every earlier proposal is final; returns its summary."""
        self.summary = await self._client._run(op.end(self.session_id, reason))
        return self.summary

    async def halt(self, reason: str) -> None:
        """The kill switch, pulled by the agent itself: nothing more runs in this session."""
        await self._client._run(op.halt(self.session_id, reason))

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        reason = self._end_reason_on_exit(exc)
        if reason is None:
            return
        try:
            await self.end(reason)
        except SessionClosedError:
            pass  # already ended or halted: nothing more to do
