"""The async client against the real gateway, worker and Temporal server (see conftest.py)."""

from __future__ import annotations

import asyncio

import pytest

import gatehouse
from gatehouse import AsyncGatehouse, Pending

from .support import INTENT, Stack


async def test_async_happy_path(agh: AsyncGatehouse, stack: Stack, last_month: str) -> None:
    async with await agh.start_session(INTENT, budget={"actions": 10}) as session:
        found = await session.propose("billing.query", {"testOnly": True, "period": last_month, "limit": 3}, "look before deleting")
        assert found.status == "executed"
        assert found.decision.verdict == "allow"
        assert found.result["returned"] <= 3
        state = await session.state()
        assert (state.agent_id, state.counters.executed) == (stack.agent_id, 1)
        assert state.budget_left.actions == 9
    assert session.summary is not None
    assert session.summary.final_state == "completed"


async def test_async_proposals_of_two_sessions_run_concurrently(agh: AsyncGatehouse, last_month: str) -> None:
    first, second = await asyncio.gather(agh.start_session(INTENT), agh.start_session(INTENT))
    args = {"testOnly": True, "period": last_month, "limit": 1}
    results = await asyncio.gather(first.propose("billing.query", args, "one"), second.propose("billing.query", args, "two"))
    assert [r.status for r in results] == ["executed", "executed"]
    summaries = await asyncio.gather(first.end("done"), second.end("done"))
    assert [s.counters.executed for s in summaries] == [1, 1]


async def test_async_held_call_and_errors(agh: AsyncGatehouse, stack: Stack, last_month: str) -> None:
    session = await agh.start_session(INTENT)
    held = await session.propose("billing.deleteRecords", {"testOnly": True, "period": last_month}, "the intent says so", wait=1, wait_for_final=False)
    assert isinstance(held, Pending)
    assert held.approval_id == f"{session.session_id}:1"
    state = await session.state()
    assert [p.approval_id for p in state.pending_approvals] == [held.approval_id]
    await session.halt("the test is over")
    final = await session.wait_for(held)
    assert final.status == "denied"
    assert "session.halted" in final.decision.rules

    async with AsyncGatehouse(stack.url, "not-a-credential") as bad:
        with pytest.raises(gatehouse.AuthenticationError):
            await bad.session(session.session_id).state()
    async with AsyncGatehouse(stack.url, stack.other_token) as other:
        with pytest.raises(gatehouse.ForbiddenError):
            await other.session(session.session_id).state()
