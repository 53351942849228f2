"""Unit tests of the clients' request and answer handling, against a scripted gateway (``httpx.MockTransport``).

What the real gateway does is tested in ``test_gateway*.py``; these pin down what the client sends
and how it follows pending answers and maps errors, including cases a live stack cannot stage.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

import httpx
import pytest

import gatehouse
from gatehouse import AsyncGatehouse, Gatehouse, Pending, ProposeResult

URL = "http://gateway.test"
TOKEN = "agent-token"
DECISION = {"verdict": "allow", "tier": "autonomous", "reasons": [], "policyHash": "ab" * 32}
COUNTERS = {"proposals": 1, "executed": 1, "denied": 0, "failed": 0, "expired": 0, "tokens": 0}
STARTED = {"sessionId": "s-1", "workflowId": "session-s-1", "agentId": "billing-bot", "owner": "eng-007", "policyHash": "ab" * 32, "mode": "normal"}
SUMMARY = {"sessionId": "s-1", "finalState": "completed", "mode": "normal", "counters": COUNTERS}


def executed(sequence: int = 1, result: Any = None) -> dict[str, Any]:
    return {"status": "executed", "decision": DECISION, "result": result, "sequence": sequence}


def problem(code: str, status: int, detail: str = "no") -> httpx.Response:
    body = {"type": f"urn:gatehouse:problem:{code}", "title": code, "status": status, "detail": detail}
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})


class ScriptedGateway:
    """Answers each request with the next scripted response for its `METHOD path`, and records every request."""

    def __init__(self) -> None:
        self.script: dict[str, deque[httpx.Response]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *responses: httpx.Response) -> "ScriptedGateway":
        self.script.setdefault(f"{method} {path}", deque()).extend(responses)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.raw_path.split(b"?")[0].decode()  # as sent: percent-encoding kept
        queue = self.script.get(f"{request.method} {path}")
        if not queue:
            raise AssertionError(f"unscripted request {request.method} {request.url}")
        return queue.popleft()

    def body(self, index: int) -> Any:
        return json.loads(self.requests[index].content)

    def sync(self) -> Gatehouse:
        return Gatehouse(URL, TOKEN, transport=httpx.MockTransport(self))

    def aio(self) -> AsyncGatehouse:
        return AsyncGatehouse(URL, TOKEN, transport=httpx.MockTransport(self))


@pytest.fixture
def gw() -> ScriptedGateway:
    return ScriptedGateway().on("POST", "/v1/sessions", httpx.Response(201, json=STARTED))


def test_start_and_propose_send_the_credential_and_the_body(gw: ScriptedGateway) -> None:
    gw.on("POST", "/v1/sessions/s-1/proposals", httpx.Response(200, json=executed(1, {"rows": 3})))
    with gw.sync() as gh:
        session = gh.start_session("clean up", budget={"writes": 1}, mandate=gatehouse.Mandate(tools=["billing.*"]))
        assert session.started is not None and session.started.agent_id == "billing-bot"
        result = session.propose("billing.query", {"testOnly": True}, "look first", wait=5, token_cost=10)
    assert isinstance(result, ProposeResult) and result.result == {"rows": 3}
    start, propose = gw.requests
    assert start.headers["authorization"] == f"Bearer {TOKEN}"
    assert gw.body(0) == {"intent": "clean up", "budget": {"writes": 1}, "mandate": {"tools": ["billing.*"]}}
    assert propose.url.params["wait"] == "5"
    assert len(propose.headers["idempotency-key"]) == 32
    assert gw.body(1) == {"tool": "billing.query", "args": {"testOnly": True}, "reasoning": "look first", "tokenCost": 10}


def test_a_pending_proposal_is_followed_until_final(gw: ScriptedGateway) -> None:
    pending = {"status": "pending", "proposalId": "p 1", "approvalId": "s-1:1", "proposalSeq": 1}
    gw.on("POST", "/v1/sessions/s-1/proposals", httpx.Response(202, json=pending))
    gw.on("GET", "/v1/sessions/s-1/proposals/p%201", httpx.Response(202, json=pending), httpx.Response(200, json=executed()))
    with gw.sync() as gh:
        result = gh.start_session("x").propose("billing.deleteRecords", {}, wait=0)
    assert result.status == "executed"
    polls = [r for r in gw.requests if r.method == "GET"]
    assert len(polls) == 2
    # A zero wait still holds each follow-up read at the default, so following never spins.
    assert all(r.url.params["wait"] == "25" for r in polls)


def test_without_wait_for_final_a_pending_comes_back(gw: ScriptedGateway) -> None:
    pending = {"status": "pending", "proposalId": "p1", "approvalId": "s-1:1"}
    gw.on("POST", "/v1/sessions/s-1/proposals", httpx.Response(202, json=pending))
    gw.on("GET", "/v1/sessions/s-1/proposals/p1", httpx.Response(202, json=pending), httpx.Response(200, json=executed()))
    with gw.sync() as gh:
        session = gh.start_session("x")
        outcome = session.propose("billing.deleteRecords", {}, wait=1, wait_for_final=False)
        assert isinstance(outcome, Pending) and outcome.approval_id == "s-1:1"
        again = session.wait_for(outcome, wait=2, wait_for_final=False)
        assert isinstance(again, Pending)
        assert session.wait_for("p1").status == "executed"
    assert [r.url.params["wait"] for r in gw.requests if r.method == "GET"] == ["2", "25"]


def test_end_follows_a_pending_answer_and_the_context_manager_ends_once(gw: ScriptedGateway) -> None:
    gw.on("POST", "/v1/sessions/s-1/end", httpx.Response(202, json={"status": "pending", "proposalId": "e1"}))
    gw.on("GET", "/v1/sessions/s-1/proposals/e1", httpx.Response(200, json={**SUMMARY, "reason": "done"}))
    with gw.sync() as gh, gh.start_session("x") as session:
        pass
    assert session.summary is not None and session.summary.reason == "done"
    assert gw.body(1) == {"reason": "done"}


def test_the_context_manager_ends_with_the_error_and_tolerates_a_closed_session(gw: ScriptedGateway) -> None:
    gw.on("POST", "/v1/sessions/s-1/end", problem("session-closed", 409))
    with gw.sync() as gh:
        with pytest.raises(RuntimeError):
            with gh.start_session("x"):
                raise RuntimeError("the agent broke")
    assert gw.body(1) == {"reason": "the agent raised RuntimeError"}


def test_a_denied_sub_agent_raises_with_its_result(gw: ScriptedGateway) -> None:
    denied = {"status": "denied", "sessionId": "s-1.1", "workflowId": "session-s-1.1", "reasons": [{"rule": "intent.deviation", "message": "off topic"}]}
    started = {"status": "started", "sessionId": "s-1.2", "workflowId": "session-s-1.2", "reasons": [], "budget": {"actions": 10}}
    gw.on("POST", "/v1/sessions/s-1/children", httpx.Response(200, json=denied), httpx.Response(200, json=started))
    with gw.sync() as gh:
        session = gh.start_session("x")
        with pytest.raises(gatehouse.SubAgentDeniedError) as caught:
            session.spawn_child("helper", "write poems")
        assert caught.value.result is not None and caught.value.result.reasons[0].rule == "intent.deviation"
        child = session.spawn_child("helper", "count rows", mandate={"tools": ["billing.query"]})
    assert child.session_id == "s-1.2"
    assert child.spawn is not None and child.spawn.budget is not None and child.spawn.budget.actions == 10
    assert gw.body(2) == {"agentId": "helper", "intent": "count rows", "mandate": {"tools": ["billing.query"]}}


def test_error_answers_raise_typed_errors(gw: ScriptedGateway) -> None:
    gw.on("GET", "/v1/sessions/nope", problem("not-found", 404, "no session `nope`"))
    gw.on("POST", "/v1/sessions/nope/proposals", problem("rate-limited", 429))
    gw.script["POST /v1/sessions/nope/proposals"][0].headers["retry-after"] = "2"
    with gw.sync() as gh:
        with pytest.raises(gatehouse.SessionNotFoundError, match="no session `nope`"):
            gh.session("nope").state()
        with pytest.raises(gatehouse.RateLimitedError) as limited:
            gh.session("nope").propose("t", {})
    assert limited.value.retry_after == 2.0


def test_a_2xx_that_is_not_json_is_a_protocol_error(gw: ScriptedGateway) -> None:
    gw.on("GET", "/v1/sessions/s-1", httpx.Response(200, text="<html>"))
    with gw.sync() as gh, pytest.raises(gatehouse.ProtocolError):
        gh.session("s-1").state()


def test_url_and_token_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEHOUSE_URL", "http://from-env.test/")
    monkeypatch.setenv("GATEHOUSE_AGENT_TOKEN", "env-token")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json={"sessionId": "s-1", "halted": True})

    with Gatehouse(transport=httpx.MockTransport(handler)) as gh:
        assert gh.url == "http://from-env.test"
        gh.session("s/1").halt("stop")
    assert str(seen[0].url) == "http://from-env.test/v1/sessions/s%2F1/halt"
    assert seen[0].headers["authorization"] == "Bearer env-token"


def test_missing_settings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEHOUSE_URL", raising=False)
    monkeypatch.delenv("GATEHOUSE_AGENT_TOKEN", raising=False)
    with pytest.raises(gatehouse.ConfigurationError, match="GATEHOUSE_URL"):
        Gatehouse(token="t")
    with pytest.raises(gatehouse.MissingCredentialError, match="GATEHOUSE_AGENT_TOKEN"):
        Gatehouse(url=URL)
    with pytest.raises(gatehouse.MissingCredentialError):
        AsyncGatehouse(url=URL, token="  ")


def test_an_unreachable_gateway_is_named() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with Gatehouse(URL, TOKEN, transport=httpx.MockTransport(refuse)) as gh:
        with pytest.raises(gatehouse.GatewayUnreachableError, match=r"POST http://gateway.test/v1/sessions failed"):
            gh.start_session("x")


def test_wait_outside_what_the_gateway_accepts_is_refused_before_sending(gw: ScriptedGateway) -> None:
    with gw.sync() as gh:
        session = gh.start_session("x")
        with pytest.raises(ValueError, match="between 0 and 60"):
            session.propose("t", {}, wait=61)
    assert len(gw.requests) == 1


async def test_async_follows_pending_and_ends_on_exit(gw: ScriptedGateway) -> None:
    pending = {"status": "pending", "proposalId": "p1"}
    gw.on("POST", "/v1/sessions/s-1/proposals", httpx.Response(202, json=pending), httpx.Response(202, json=pending))
    gw.on("GET", "/v1/sessions/s-1/proposals/p1", httpx.Response(200, json=executed(1)), httpx.Response(200, json=executed(2)))
    gw.on("POST", "/v1/sessions/s-1/end", httpx.Response(200, json=SUMMARY))
    async with gw.aio() as gh:
        async with await gh.start_session("x") as session:
            result = await session.propose("billing.deleteRecords", {}, wait=1)
            assert result.sequence == 1
            outcome = await session.propose("billing.deleteRecords", {}, wait=1, wait_for_final=False)
            assert isinstance(outcome, Pending)
            assert (await session.wait_for(outcome)).sequence == 2
    assert session.summary is not None and session.summary.final_state == "completed"
    assert (gw.requests[-1].method, gw.requests[-1].url.path) == ("POST", "/v1/sessions/s-1/end")


async def test_async_errors_are_the_same_types(gw: ScriptedGateway) -> None:
    gw.on("POST", "/v1/sessions/s-1/proposals", problem("invalid-request", 422, "args: Required"))
    async with gw.aio() as gh:
        session = await gh.start_session("x")
        with pytest.raises(gatehouse.InvalidProposalError, match="args: Required"):
            await session.propose("t")



def test_an_unreachable_gateway_is_named_without_the_user_and_password_of_its_url() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with Gatehouse("http://agent:s3cret@gateway.test:8080/", TOKEN, transport=httpx.MockTransport(refuse)) as gh:
        with pytest.raises(gatehouse.GatewayUnreachableError) as raised:
            gh.start_session("x")
    assert raised.value.detail.startswith("POST http://gateway.test:8080/v1/sessions failed: connection refused")
    assert "s3cret" not in str(raised.value) and "agent:" not in str(raised.value)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed(status: int) -> None:
    elsewhere = "http://elsewhere.test/v1/sessions"
    gw = ScriptedGateway().on("POST", "/v1/sessions", httpx.Response(status, headers={"location": elsewhere}))
    with gw.sync() as gh:
        with pytest.raises(gatehouse.GatewayUnreachableError, match=rf"POST http://gateway.test/v1/sessions failed: unexpected redirect \(HTTP {status}\)"):
            gh.start_session("x")
    # Only the one request: nothing was sent to where the redirect points.
    assert [str(r.url) for r in gw.requests] == [f"{URL}/v1/sessions"]


async def test_async_a_redirect_is_not_followed() -> None:
    gw = ScriptedGateway().on("POST", "/v1/sessions", httpx.Response(307, headers={"location": "http://elsewhere.test/v1/sessions"}))
    async with gw.aio() as gh:
        with pytest.raises(gatehouse.GatewayUnreachableError, match="unexpected redirect"):
            await gh.start_session("x")
    assert len(gw.requests) == 1


class DroppingGateway:
    """Starts sessions, answers a proposal ``pending`` when told to, and drops the connection on anything else (the answer lost)."""

    def __init__(self, pending_first: bool = False) -> None:
        self.requests: list[httpx.Request] = []
        self.pending_first = pending_first

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/v1/sessions":
            return httpx.Response(201, json=STARTED)
        if self.pending_first and request.method == "POST":
            return httpx.Response(202, json={"status": "pending", "proposalId": request.headers["idempotency-key"]})
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)


def test_a_proposal_whose_answer_is_lost_names_its_id() -> None:
    gw = DroppingGateway()
    with Gatehouse(URL, TOKEN, transport=httpx.MockTransport(gw)) as gh:
        session = gh.start_session("x")
        with pytest.raises(gatehouse.GatewayUnreachableError) as fresh:
            session.propose("billing.query", {})
        assert fresh.value.proposal_id == gw.requests[-1].headers["idempotency-key"]
        with pytest.raises(gatehouse.GatewayUnreachableError) as mine:
            session.propose("billing.query", {}, proposal_id="agent-step-7")
        assert mine.value.proposal_id == gw.requests[-1].headers["idempotency-key"] == "agent-step-7"
        with pytest.raises(gatehouse.GatewayUnreachableError) as read:
            session.wait_for("agent-step-7")
        assert read.value.proposal_id == "agent-step-7"
        # A spawn is not a proposal: `wait_for` cannot read it.
        with pytest.raises(gatehouse.GatewayUnreachableError) as spawn:
            session.spawn_child("helper", "x")
        assert spawn.value.proposal_id is None
        with pytest.raises(gatehouse.GatewayUnreachableError) as start:
            gh.session("s-1").halt("stop")
        assert start.value.proposal_id is None


def test_a_pending_proposal_whose_next_read_is_lost_names_its_id() -> None:
    gw = DroppingGateway(pending_first=True)
    with Gatehouse(URL, TOKEN, transport=httpx.MockTransport(gw)) as gh:
        with pytest.raises(gatehouse.GatewayUnreachableError) as lost:
            gh.start_session("x").propose("billing.deleteRecords", {}, wait=0, proposal_id="delete-1")
    assert lost.value.proposal_id == "delete-1"
    assert [(r.method, r.url.path) for r in gw.requests[1:]] == [("POST", "/v1/sessions/s-1/proposals"), ("GET", "/v1/sessions/s-1/proposals/delete-1")]


@pytest.mark.parametrize("proposal_id", ["", "step 1", "é", "x" * 201])
def test_a_proposal_id_the_gateway_would_refuse_is_refused_before_sending(gw: ScriptedGateway, proposal_id: str) -> None:
    with gw.sync() as gh:
        session = gh.start_session("x")
        with pytest.raises(ValueError, match="proposal_id must be 1 to 200 letters, digits or `.:_-`"):
            session.propose("t", {}, proposal_id=proposal_id)
    assert len(gw.requests) == 1


async def test_async_a_proposal_whose_answer_is_lost_names_its_id() -> None:
    gw = DroppingGateway()
    async with AsyncGatehouse(URL, TOKEN, transport=httpx.MockTransport(gw)) as gh:
        session = await gh.start_session("x")
        with pytest.raises(gatehouse.GatewayUnreachableError) as fresh:
            await session.propose("billing.query", {})
        assert fresh.value.proposal_id == gw.requests[-1].headers["idempotency-key"]
        with pytest.raises(gatehouse.GatewayUnreachableError) as mine:
            await session.propose("billing.query", {}, proposal_id="agent-step-7")
        assert mine.value.proposal_id == gw.requests[-1].headers["idempotency-key"] == "agent-step-7"
