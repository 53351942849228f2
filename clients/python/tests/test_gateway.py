"""The sync client against the real gateway, worker and Temporal server (see conftest.py)."""

from __future__ import annotations

import uuid

import pytest

import gatehouse
from gatehouse import Gatehouse, Pending, ProposeResult

from .support import INTENT, Stack


def test_happy_path_start_propose_state_end(gh: Gatehouse, stack: Stack, last_month: str) -> None:
    with gh.start_session(INTENT) as session:
        assert session.started is not None
        assert (session.started.agent_id, session.started.owner, session.started.mode) == (stack.agent_id, stack.owner, "normal")
        assert session.started.workflow_id == f"session-{session.session_id}"

        found = session.propose("billing.query", {"testOnly": True, "period": last_month, "limit": 5}, "look before deleting")
        assert isinstance(found, ProposeResult)
        assert found.status == "executed"
        assert (found.decision.verdict, found.decision.tier) == ("allow", "autonomous")
        assert found.decision.policy_hash == session.started.policy_hash
        assert found.sequence == 1
        assert found.result["returned"] == len(found.result["records"])
        assert found.result["records"], "last month has test records"
        assert all(record["isTest"] for record in found.result["records"])

        state = session.state()
        assert (state.session_id, state.agent_id, state.principal, state.intent) == (session.session_id, stack.agent_id, stack.agent_id, INTENT)
        assert state.counters.proposals == 1 and state.counters.executed == 1
        assert [(a.tool, a.status, a.verdict) for a in state.last_actions] == [("billing.query", "executed", "allow")]
        assert state.pending_approvals == []

    assert session.summary is not None
    assert session.summary.final_state == "completed"
    assert session.summary.reason == "done"
    assert session.summary.counters.executed == 1
    with pytest.raises(gatehouse.SessionClosedError) as closed:
        session.propose("billing.query", {"testOnly": True}, "one more")
    assert closed.value.status == 409
    assert closed.value.type == "urn:gatehouse:problem:session-closed"


def test_a_held_call_stays_pending_and_shows_in_the_state(gh: Gatehouse, last_month: str) -> None:
    session = gh.start_session(INTENT)
    held = session.propose("billing.deleteRecords", {"testOnly": True, "period": last_month}, "the intent says so", wait=1, wait_for_final=False)
    assert isinstance(held, Pending)
    assert held.status == "pending"
    assert held.approval_id == f"{session.session_id}:1"
    assert held.proposal_seq == 1

    state = session.state()
    assert [(p.approval_id, p.tool) for p in state.pending_approvals] == [(held.approval_id, "billing.deleteRecords")]
    assert state.pending_approvals[0].approved_by == []
    assert state.counters.executed == 0

    again = session.wait_for(held, wait=1, wait_for_final=False)
    assert isinstance(again, Pending) and again.proposal_id == held.proposal_id

    # The agent pulls its own kill switch: the held call is denied, never run, and the session closes.
    session.halt("the test is over")
    final = session.wait_for(held)
    assert final.status == "denied"
    assert final.approval_id == held.approval_id
    assert "session.halted" in final.decision.rules
    with pytest.raises(gatehouse.SessionClosedError):
        session.propose("billing.query", {"testOnly": True}, "after the halt")
    assert session.state().halted is True


def test_denials_carry_their_rules(gh: Gatehouse) -> None:
    with gh.start_session("unmount the volumes nobody uses") as session:
        listed = session.propose("volumes.list", {"limit": 5}, "what is mounted where")
        assert listed.status == "executed"
        volume_id = listed.result["volumes"][0]["id"]

        transition = session.propose("volumes.unmount", {"volumeId": volume_id}, "listing then unmounting")
        assert transition.status == "denied"
        assert transition.decision.verdict == "deny"
        assert "transition.forbidden" in transition.decision.rules
        assert transition.decision.reasons, "a denial names its reasons"
        assert all(reason.message for reason in transition.decision.reasons)

        blocked = session.propose("audit.modify", {"change": "drop yesterday's rows"}, "tidy the log")
        assert (blocked.status, blocked.decision.tier) == ("denied", "blocked")
        assert "tool.always-blocked" in blocked.decision.rules

        unknown = session.propose("nope.doSomething", {}, "a tool nobody registered")
        assert unknown.status == "denied"
        assert "tool.unknown" in unknown.decision.rules

    assert session.summary is not None
    assert (session.summary.counters.executed, session.summary.counters.denied) == (1, 3)


@pytest.mark.parametrize(
    ("which", "rule"),
    [("garbage", "credential.malformed"), ("expired", "credential.expired"), ("revoked", "credential.revoked")],
)
def test_a_bad_credential_is_401(stack: Stack, which: str, rule: str) -> None:
    token = {"garbage": "not-a-credential", "expired": stack.expired_token, "revoked": stack.revoked_token}[which]
    with Gatehouse(stack.url, token) as bad:
        with pytest.raises(gatehouse.AuthenticationError) as refused:
            bad.start_session(INTENT)
    assert refused.value.status == 401
    assert refused.value.type == "urn:gatehouse:problem:unauthorized"
    assert refused.value.rule == rule


def test_another_agents_session_is_403(gh: Gatehouse, other: Gatehouse) -> None:
    with gh.start_session(INTENT) as mine:
        theirs = other.session(mine.session_id)
        with pytest.raises(gatehouse.ForbiddenError) as forbidden:
            theirs.state()
        assert forbidden.value.status == 403
        assert forbidden.value.type == "urn:gatehouse:problem:forbidden"
        with pytest.raises(gatehouse.ForbiddenError):
            theirs.propose("billing.query", {"testOnly": True}, "not mine")
        with pytest.raises(gatehouse.ForbiddenError):
            theirs.halt("not mine either")
        with pytest.raises(gatehouse.ForbiddenError):
            theirs.end("nor this")
        state = mine.state()
        assert state.counters.proposals == 0
        assert state.halted is False and state.ended is False


def test_unknown_sessions_are_404_and_taken_ids_409(gh: Gatehouse) -> None:
    with pytest.raises(gatehouse.SessionNotFoundError) as missing:
        gh.session(f"no-such-session-{uuid.uuid4().hex}").state()
    assert missing.value.status == 404
    session_id = f"py-{uuid.uuid4().hex}"
    with gh.start_session(INTENT, session_id=session_id) as session:
        assert session.session_id == session_id
        with pytest.raises(gatehouse.SessionExistsError) as taken:
            gh.start_session(INTENT, session_id=session_id)
        assert taken.value.status == 409


def test_a_malformed_proposal_is_422_with_paths_and_an_oversized_one_413(gh: Gatehouse) -> None:
    with gh.start_session(INTENT) as session:
        with pytest.raises(gatehouse.InvalidProposalError) as empty_tool:
            session.propose("", {}, "no tool at all")
        assert empty_tool.value.status == 422
        assert [e["path"] for e in empty_tool.value.errors] == ["body.tool"]

        with pytest.raises(gatehouse.InvalidProposalError) as negative:
            session.propose("billing.query", {}, "negative cost", token_cost=-1)
        assert [e["path"] for e in negative.value.errors] == ["body.tokenCost"]

        with pytest.raises(gatehouse.ProposalTooLargeError) as large:
            session.propose("billing.query", {"note": "x" * 70_000}, "too much")
        assert large.value.status == 413

        assert session.state().counters.proposals == 0


def test_a_sub_agent_is_a_session_of_the_same_principal(gh: Gatehouse, stack: Stack, last_month: str) -> None:
    with gh.start_session(INTENT) as parent:
        with parent.spawn_child("py-helper", "count the test billing records from last month") as child:
            assert child.spawn is not None and child.spawn.status == "started"
            assert child.spawn.budget is not None
            counted = child.propose("billing.query", {"testOnly": True, "period": last_month, "limit": 1}, "count them")
            assert counted.status == "executed"
            state = child.state()
            # A sub-agent's id is under its root credential's: `<root>/<name>`.
            assert (state.agent_id, state.principal, state.parent_session_id) == (f"{stack.agent_id}/py-helper", stack.agent_id, parent.session_id)
        assert child.summary is not None and child.summary.final_state == "completed"
