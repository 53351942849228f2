"""Pydantic models of what the Gatehouse gateway sends and receives.

They mirror the TypeScript contract (`workflows/contract.ts`, `policies/types.ts`). Attributes
are snake_case in Python and camelCase on the wire (``policy_hash`` <-> ``policyHash``); unknown
fields the gateway adds later are kept (``model_extra``) rather than refused.
"""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

Verdict = Literal["allow", "approve", "deny"]
Tier = Literal["autonomous", "approval", "blocked"]
SessionMode = Literal["normal", "read-only", "review", "closed"]
FinalStatus = Literal["executed", "denied", "failed", "expired"]
FinalState = Literal["completed", "blocked", "cancelled", "error", "halted"]


class GatehouseModel(BaseModel):
    """Base of every model: camelCase on the wire, snake_case in Python, extra fields kept."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow", frozen=True)

    def to_wire(self) -> dict[str, Any]:
        """The JSON body the gateway expects: camelCase keys, unset optional fields left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class Reason(GatehouseModel):
    """Why a decision was made: a stable rule id (``tier.destructive``, ``budget.writes``, ...) and a message."""

    rule: str
    message: str


class ApprovalRequirement(GatehouseModel):
    """How an ``approve`` verdict must be satisfied (approver groups in escalation order, ...)."""

    groups: list[str] = Field(default_factory=list)
    approvers_required: int = 1


class Decision(GatehouseModel):
    """The policy's decision on one proposal: a pure function of policy, session state, proposal and time."""

    verdict: Verdict
    tier: Tier
    reasons: list[Reason] = Field(default_factory=list)
    policy_hash: str
    approval: Optional[ApprovalRequirement] = None
    unlock: Optional[ApprovalRequirement] = None

    @property
    def rules(self) -> list[str]:
        """The rule ids of the reasons, in order."""
        return [r.rule for r in self.reasons]


class BudgetOverride(GatehouseModel):
    """Per-session budget limits: they can only lower the policy's own."""

    actions: Optional[int] = None
    writes: Optional[int] = None
    critical: Optional[int] = None
    tokens: Optional[int] = None


class Mandate(GatehouseModel):
    """What a session's intent covers: tool names or globs, resource families."""

    tools: Optional[list[str]] = None
    resources: Optional[list[str]] = None


class Proposal(GatehouseModel):
    """A tool call an agent proposes. Gatehouse decides whether it runs."""

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    reasoning: str = ""
    token_cost: Optional[int] = None
    idempotency_key: Optional[str] = None
    request_unlock: Optional[bool] = None


class ToolFailure(GatehouseModel):
    """How a tool that ran failed."""

    type: str
    message: str


class ProposeResult(GatehouseModel):
    """The final outcome of a proposal: executed, denied, failed, or expired (no one approved in time)."""

    status: FinalStatus
    decision: Decision
    result: Any = None
    error: Optional[ToolFailure] = None
    approval_id: Optional[str] = None
    sequence: int

    @property
    def executed(self) -> bool:
        return self.status == "executed"


class Pending(GatehouseModel):
    """A proposal still waiting (usually for a person): ``Session.wait_for`` reads its final outcome."""

    status: Literal["pending"]
    proposal_id: str
    approval_id: Optional[str] = None
    proposal_seq: Optional[int] = None

    @property
    def executed(self) -> bool:
        return False


ProposeOutcome = Union[ProposeResult, Pending]


class StartedSession(GatehouseModel):
    """What the gateway answers to a session start."""

    session_id: str
    workflow_id: str
    agent_id: str
    owner: str
    policy_hash: str
    mode: SessionMode


class Counters(GatehouseModel):
    proposals: int
    executed: int
    denied: int
    failed: int
    expired: int
    tokens: int


class BudgetLeft(GatehouseModel):
    actions: float
    writes: float
    critical: float
    tokens: float


class PendingApproval(GatehouseModel):
    """A pending human decision as the session state shows it."""

    approval_id: str
    call_digest: str
    tool: str
    requested_at: str
    deadline: str
    groups: list[str] = Field(default_factory=list)
    approvers_required: int
    approved_by: list[str] = Field(default_factory=list)


class ActionView(GatehouseModel):
    """One recent action of a session."""

    sequence: int
    at: str
    tool: str
    status: FinalStatus
    verdict: Verdict


class SessionState(GatehouseModel):
    """A session's state: mode, counters, budget left, pending approvals, last actions."""

    session_id: str
    workflow_id: str
    first_run_id: Optional[str] = None
    agent_id: str
    owner: str
    principal: Optional[str] = None
    """The credential's agent the session (or its root, for a sub-agent) acts under."""
    intent: str
    parent_session_id: Optional[str] = None
    mode: SessionMode
    paused: bool = False
    halted: bool = False
    ended: bool = False
    policy_hash: str
    counters: Counters
    budget_left: BudgetLeft
    intent_score: Optional[float] = None
    pending_approvals: list[PendingApproval] = Field(default_factory=list)
    last_actions: list[ActionView] = Field(default_factory=list)


class SessionSummary(GatehouseModel):
    """A session's final summary, returned by ``end``."""

    session_id: str
    final_state: FinalState
    mode: SessionMode
    counters: Counters
    reason: Optional[str] = None


class SpawnChildResult(GatehouseModel):
    """The outcome of spawning a sub-agent."""

    status: Literal["started", "denied", "expired"]
    session_id: str
    workflow_id: str
    budget: Optional[BudgetOverride] = None
    intent_score: Optional[float] = None
    reasons: list[Reason] = Field(default_factory=list)
    approval_id: Optional[str] = None


def parse_outcome(body: Any) -> ProposeOutcome:
    """A proposal response body: ``Pending`` when its status is ``pending``, else a ``ProposeResult``."""
    if isinstance(body, dict) and body.get("status") == "pending":
        return Pending.model_validate(body)
    return ProposeResult.model_validate(body)
