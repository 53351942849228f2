"""Gatehouse for Python agents: propose tool calls through the Gatehouse gateway.

    from gatehouse import Gatehouse

    with Gatehouse() as gh, gh.start_session("clean up the test billing records from last month") as session:
        result = session.propose("billing.query", {"testOnly": True}, "look before deleting")

``Gatehouse`` / ``Session`` are synchronous; ``AsyncGatehouse`` / ``AsyncSession`` are the same API, awaited.
"""

from .__about__ import VERSION as __version__
from ._protocol import TOKEN_ENV, URL_ENV
from .aio import AsyncGatehouse, AsyncSession
from .client import Gatehouse, Session
from .errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    GatehouseError,
    GatewayUnreachableError,
    InvalidProposalError,
    InvalidRequestError,
    MissingCredentialError,
    NotFoundError,
    ProposalTooLargeError,
    ProtocolError,
    RateLimitedError,
    ServiceUnavailableError,
    SessionClosedError,
    SessionExistsError,
    SessionNotFoundError,
    SessionStartRefusedError,
    SubAgentDeniedError,
)
from .models import (
    ActionView,
    BudgetLeft,
    BudgetOverride,
    Counters,
    Decision,
    Mandate,
    Pending,
    PendingApproval,
    Proposal,
    ProposeOutcome,
    ProposeResult,
    Reason,
    SessionState,
    SessionSummary,
    SpawnChildResult,
    StartedSession,
    ToolFailure,
)

__all__ = [
    "__version__",
    "URL_ENV",
    "TOKEN_ENV",
    "Gatehouse",
    "Session",
    "AsyncGatehouse",
    "AsyncSession",
    "GatehouseError",
    "ConfigurationError",
    "MissingCredentialError",
    "AuthenticationError",
    "ForbiddenError",
    "SessionStartRefusedError",
    "NotFoundError",
    "SessionNotFoundError",
    "ConflictError",
    "SessionClosedError",
    "SessionExistsError",
    "ProposalTooLargeError",
    "InvalidRequestError",
    "InvalidProposalError",
    "RateLimitedError",
    "ServiceUnavailableError",
    "SubAgentDeniedError",
    "GatewayUnreachableError",
    "ProtocolError",
    "ActionView",
    "BudgetLeft",
    "BudgetOverride",
    "Counters",
    "Decision",
    "Mandate",
    "Pending",
    "PendingApproval",
    "Proposal",
    "ProposeOutcome",
    "ProposeResult",
    "Reason",
    "SessionState",
    "SessionSummary",
    "SpawnChildResult",
    "StartedSession",
    "ToolFailure",
]
