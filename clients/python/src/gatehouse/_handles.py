"""What :mod:`gatehouse.client` and :mod:`gatehouse.aio` share besides the operations themselves:
the connection settings, a session handle's fields, and when leaving a ``with`` block ends the session.
Only the I/O differs between the two: plain calls there, awaited ones here.
"""

from __future__ import annotations

from typing import Generic, Optional, TypeVar, Union

from . import _protocol as p
from .models import Pending, SessionSummary, SpawnChildResult, StartedSession

ClientT = TypeVar("ClientT")


class ClientCore:
    """Settings from the arguments, else ``GATEHOUSE_URL`` and ``GATEHOUSE_AGENT_TOKEN``."""

    def __init__(self, url: Optional[str], token: Optional[str], timeout: float) -> None:
        self._settings = p.resolve_settings(url, token, timeout)

    @property
    def url(self) -> str:
        return self._settings.url


class SessionCore(Generic[ClientT]):
    """The fields of a session handle, whichever client it belongs to."""

    def __init__(
        self,
        client: ClientT,
        session_id: str,
        *,
        started: Optional[StartedSession] = None,
        spawn: Optional[SpawnChildResult] = None,
    ) -> None:
        self._client = client
        self.session_id = session_id
        self.started = started
        """The gateway's answer to the start (``None`` for a handle from ``session()`` or a sub-agent)."""
        self.spawn = spawn
        """For a sub-agent: the spawn result (its share of the budget, its intent score)."""
        self.summary: Optional[SessionSummary] = None
        """The final summary, once ``end`` returned."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.session_id!r})"

    def _end_reason_on_exit(self, exc: Optional[BaseException]) -> Optional[str]:
        """The reason to end the session with when a ``with`` block is left, or ``None`` to leave it be."""
        if self.summary is not None or (exc is not None and not isinstance(exc, Exception)):
            return None  # ended already, or interrupted (Ctrl-C): do not wait behind a held proposal
        return "done" if exc is None else f"the agent raised {type(exc).__name__}"


def proposal_id_of(pending: Union[Pending, str]) -> str:
    """The ``proposal_id`` of a :class:`Pending`, or the id itself."""
    return pending.proposal_id if isinstance(pending, Pending) else pending
