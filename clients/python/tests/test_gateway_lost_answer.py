"""A proposal whose answer is lost on the way back, against the real gateway (see conftest.py).

A TCP proxy between the client and the gateway forwards the request and closes the connection when
the answer comes, at the wire: the gateway ran the call, the agent saw no answer. The error names
the proposal (``proposal_id``), ``wait_for`` reads the outcome the gateway kept, and a proposal
sent again under the same id is the same proposal: the tool ran once.
"""

from __future__ import annotations

import socket
import threading
from typing import Iterator, Optional
from urllib.parse import urlsplit

import pytest

import gatehouse
from gatehouse import Gatehouse, ProposeResult, Session

from .support import INTENT, Stack


class DroppingProxy:
    """A proxy to ``target``; ``drop_next_answer()`` makes it close the agent's connection on the first bytes the gateway answers next."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._armed = threading.Event()
        self.dropped = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def drop_next_answer(self) -> None:
        self._armed.set()

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while True:
            try:
                agent, _ = self._server.accept()
            except OSError:
                return  # closed
            gateway = socket.create_connection(self._target)
            threading.Thread(target=self._pump, args=(agent, gateway, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(gateway, agent, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, answers: bool) -> None:
        try:
            while data := source.recv(65536):
                if answers and self._armed.is_set():
                    # The gateway has handled the request and is answering: the agent never sees it.
                    self._armed.clear()
                    self.dropped += 1
                    return
                sink.sendall(data)
        except OSError:
            pass  # the other direction closed the pair
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()


@pytest.fixture
def proxy(stack: Stack) -> Iterator[DroppingProxy]:
    running = DroppingProxy(stack.url)
    yield running
    running.close()


@pytest.fixture
def through_proxy(proxy: DroppingProxy, stack: Stack) -> Iterator[Gatehouse]:
    with Gatehouse(proxy.url, stack.token) as client:
        yield client


def lost_proposal(session: Session, proxy: DroppingProxy, last_month: str, proposal_id: Optional[str] = None) -> gatehouse.GatewayUnreachableError:
    """``propose`` of ``billing.query`` (autonomous) whose answer the proxy drops: the error it raises."""
    before = proxy.dropped
    proxy.drop_next_answer()
    with pytest.raises(gatehouse.GatewayUnreachableError) as lost:
        session.propose("billing.query", {"testOnly": True, "period": last_month, "limit": 3}, "look first", proposal_id=proposal_id)
    assert proxy.dropped == before + 1, "the proxy dropped the answer, after the gateway handled the request"
    return lost.value


def test_a_lost_answer_names_the_proposal_and_wait_for_reads_its_outcome(through_proxy: Gatehouse, proxy: DroppingProxy, last_month: str) -> None:
    with through_proxy.start_session(INTENT) as session:
        lost = lost_proposal(session, proxy, last_month)
        assert isinstance(lost.proposal_id, str)
        outcome = session.wait_for(lost.proposal_id)
        assert isinstance(outcome, ProposeResult)
        assert (outcome.status, outcome.sequence) == ("executed", 1)
        assert outcome.result["returned"] == len(outcome.result["records"])
        state = session.state()
        assert (state.counters.proposals, state.counters.executed) == (1, 1)


def test_proposed_again_under_the_same_proposal_id_it_is_the_same_proposal(through_proxy: Gatehouse, proxy: DroppingProxy, last_month: str) -> None:
    with through_proxy.start_session(INTENT) as session:
        lost = lost_proposal(session, proxy, last_month, proposal_id="agent-step-7")
        assert lost.proposal_id == "agent-step-7"
        again = session.propose("billing.query", {"testOnly": True, "period": last_month, "limit": 3}, "look first", proposal_id="agent-step-7")
        assert (again.status, again.sequence) == ("executed", 1)
        assert session.wait_for("agent-step-7") == again
        assert session.state().counters.proposals == 1
        # A new id is a new proposal.
        assert session.propose("billing.query", {"testOnly": True}, "again", proposal_id="agent-step-8").sequence == 2
        assert session.state().counters.executed == 2


def test_a_proposal_that_never_reached_the_gateway_is_not_found(gh: Gatehouse) -> None:
    with gh.start_session(INTENT) as session:
        with pytest.raises(gatehouse.NotFoundError):
            session.wait_for("never-sent-1", wait=0)
        assert session.state().counters.proposals == 0
