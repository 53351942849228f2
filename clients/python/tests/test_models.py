"""Unit tests: the pydantic models read and write the gateway's wire shapes."""

from __future__ import annotations

import pydantic
import pytest

from gatehouse import Decision, Pending, Proposal, ProposeResult, SessionState, SessionSummary
from gatehouse.models import parse_outcome

DECISION = {
    "verdict": "approve",
    "tier": "approval",
    "reasons": [{"rule": "blast-radius.approval", "message": "14237 rows > 100"}],
    "policyHash": "ab" * 32,
    "approval": {"groups": ["on-call", "sre-leads"], "approversRequired": 1, "escalateAfterMs": [300000], "timeoutMs": 900000},
}


def test_a_proposal_is_sent_in_camel_case_without_unset_fields() -> None:
    proposal = Proposal(tool="billing.query", args={"testOnly": True}, reasoning="look", token_cost=12)
    assert proposal.to_wire() == {"tool": "billing.query", "args": {"testOnly": True}, "reasoning": "look", "tokenCost": 12}
    assert Proposal(tool="t").to_wire() == {"tool": "t", "args": {}, "reasoning": ""}


def test_a_final_result_and_its_decision() -> None:
    outcome = parse_outcome({"status": "denied", "decision": {**DECISION, "verdict": "deny", "tier": "blocked"}, "sequence": 3})
    assert isinstance(outcome, ProposeResult)
    assert outcome.status == "denied"
    assert outcome.sequence == 3
    assert not outcome.executed
    assert outcome.decision.rules == ["blast-radius.approval"]
    assert outcome.decision.policy_hash == "ab" * 32


def test_a_pending_answer() -> None:
    outcome = parse_outcome({"status": "pending", "proposalId": "u-1", "approvalId": "s-1:2", "proposalSeq": 2})
    assert isinstance(outcome, Pending)
    assert (outcome.proposal_id, outcome.approval_id, outcome.proposal_seq) == ("u-1", "s-1:2", 2)
    assert not outcome.executed


def test_fields_the_gateway_adds_later_are_kept() -> None:
    decision = Decision.model_validate({**DECISION, "shadow": {"verdict": "deny"}})
    assert decision.approval is not None
    assert decision.approval.approvers_required == 1
    assert decision.model_extra == {"shadow": {"verdict": "deny"}}


def test_an_unknown_status_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError):
        parse_outcome({"status": "maybe", "decision": DECISION, "sequence": 1})


def test_the_state_view_and_the_summary() -> None:
    counters = {"proposals": 2, "executed": 1, "denied": 0, "failed": 0, "expired": 0, "tokens": 0}
    state = SessionState.model_validate(
        {
            "sessionId": "s-1",
            "workflowId": "session-s-1",
            "firstRunId": "r-1",
            "agentId": "billing-bot",
            "owner": "eng-007",
            "principal": "billing-bot",
            "intent": "clean up",
            "mode": "normal",
            "paused": False,
            "halted": False,
            "ended": False,
            "policyHash": "ab" * 32,
            "counters": counters,
            "budgetLeft": {"actions": 498, "writes": 400, "critical": 50, "tokens": 100000},
            "pendingApprovals": [
                {
                    "approvalId": "s-1:2",
                    "callDigest": "cd" * 32,
                    "tool": "billing.deleteRecords",
                    "requestedAt": "2026-01-01T00:00:00.000Z",
                    "deadline": "2026-01-01T00:15:00.000Z",
                    "groups": ["on-call"],
                    "approversRequired": 1,
                    "approvedBy": [],
                }
            ],
            "lastActions": [{"sequence": 1, "at": "2026-01-01T00:00:00.000Z", "tool": "billing.query", "status": "executed", "verdict": "allow"}],
        }
    )
    assert state.pending_approvals[0].approval_id == "s-1:2"
    assert state.last_actions[0].tool == "billing.query"
    assert state.budget_left.actions == 498
    summary = SessionSummary.model_validate({"sessionId": "s-1", "finalState": "completed", "mode": "normal", "counters": counters, "reason": "done"})
    assert summary.final_state == "completed"
    assert summary.counters.executed == 1
