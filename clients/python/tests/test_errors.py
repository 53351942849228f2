"""Unit tests: problem+json answers map to the typed errors (no gateway needed)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

import gatehouse
from gatehouse.errors import Context, error_from_problem, parse_retry_after


def problem(code: str, status: int, detail: str = "what went wrong", **extra: Any) -> dict[str, Any]:
    return {"type": f"urn:gatehouse:problem:{code}", "title": code, "status": status, "detail": detail, **extra}


@pytest.mark.parametrize(
    ("code", "status", "context", "expected"),
    [
        ("unauthorized", 401, "session", gatehouse.AuthenticationError),
        ("forbidden", 403, "session", gatehouse.ForbiddenError),
        ("start-refused", 403, "start", gatehouse.SessionStartRefusedError),
        ("start-refused", 403, "spawn", gatehouse.SubAgentDeniedError),
        ("not-found", 404, "session", gatehouse.SessionNotFoundError),
        ("not-found", 404, "propose", gatehouse.SessionNotFoundError),
        ("not-found", 404, "poll", gatehouse.NotFoundError),
        ("session-exists", 409, "start", gatehouse.SessionExistsError),
        ("session-closed", 409, "propose", gatehouse.SessionClosedError),
        ("body-too-large", 413, "propose", gatehouse.ProposalTooLargeError),
        ("unsupported-media-type", 415, "start", gatehouse.InvalidRequestError),
        ("invalid-request", 422, "start", gatehouse.InvalidRequestError),
        ("invalid-request", 422, "propose", gatehouse.InvalidProposalError),
        ("invalid-proposal", 422, "propose", gatehouse.InvalidProposalError),
        ("rate-limited", 429, "propose", gatehouse.RateLimitedError),
        ("too-many-sessions", 429, "start", gatehouse.RateLimitedError),
        ("too-many-in-flight", 429, "session", gatehouse.RateLimitedError),
        ("unavailable", 503, "session", gatehouse.ServiceUnavailableError),
    ],
)
def test_problem_codes_map_to_typed_errors(code: str, status: int, context: Context, expected: type[gatehouse.GatehouseError]) -> None:
    err = error_from_problem(status, problem(code, status), None, context)
    assert type(err) is expected
    assert err.status == status
    assert err.type == f"urn:gatehouse:problem:{code}"
    assert err.code == code
    assert err.detail == "what went wrong"
    assert str(err) == f"{status} {code}: what went wrong"


def test_unknown_codes_fall_back_to_the_status() -> None:
    assert type(error_from_problem(401, problem("something-new", 401))) is gatehouse.AuthenticationError
    assert type(error_from_problem(404, problem("something-new", 404), None, "session")) is gatehouse.SessionNotFoundError
    assert type(error_from_problem(409, problem("something-new", 409))) is gatehouse.ConflictError
    assert type(error_from_problem(500, problem("internal", 500))) is gatehouse.GatehouseError


def test_an_answer_that_is_not_problem_json_keeps_its_text() -> None:
    err = error_from_problem(502, "<html>Bad Gateway</html>")
    assert type(err) is gatehouse.GatehouseError
    assert err.detail == "<html>Bad Gateway</html>"
    assert err.type == "about:blank"
    empty = error_from_problem(500, None)
    assert empty.detail == "the gateway answered HTTP 500"


def test_the_hierarchy_lets_callers_catch_broadly() -> None:
    assert issubclass(gatehouse.SessionStartRefusedError, gatehouse.ForbiddenError)
    assert issubclass(gatehouse.SubAgentDeniedError, gatehouse.SessionStartRefusedError)
    assert issubclass(gatehouse.SessionClosedError, gatehouse.ConflictError)
    assert issubclass(gatehouse.SessionExistsError, gatehouse.ConflictError)
    assert issubclass(gatehouse.SessionNotFoundError, gatehouse.NotFoundError)
    assert issubclass(gatehouse.InvalidProposalError, gatehouse.InvalidRequestError)
    for name in gatehouse.__all__:
        value = getattr(gatehouse, name)
        if isinstance(value, type) and name.endswith("Error"):
            assert issubclass(value, gatehouse.GatehouseError), name


def test_schema_errors_carry_their_paths_and_rules_their_names() -> None:
    errors = [{"path": "args", "message": "Required"}, {"path": "tool", "message": "Expected string"}]
    err = error_from_problem(422, problem("invalid-request", 422, errors=errors), None, "propose")
    assert isinstance(err, gatehouse.InvalidProposalError)
    assert err.errors == errors
    refused = error_from_problem(403, problem("start-refused", 403, rule="policy.not-allowed"), None, "start")
    assert refused.rule == "policy.not-allowed"
    assert error_from_problem(403, problem("forbidden", 403)).rule is None


def test_a_denied_sub_agent_carries_its_spawn_result() -> None:
    result = {"status": "denied", "sessionId": "s-1.1", "workflowId": "session-s-1.1", "reasons": [{"rule": "subagent.budget", "message": "no budget left"}]}
    err = error_from_problem(403, problem("start-refused", 403, result=result), None, "spawn")
    assert isinstance(err, gatehouse.SubAgentDeniedError)
    assert err.result is not None
    assert err.result.status == "denied"
    assert err.result.reasons[0].rule == "subagent.budget"


def test_retry_after_in_seconds_or_as_a_date() -> None:
    err = error_from_problem(429, problem("rate-limited", 429), "3")
    assert isinstance(err, gatehouse.RateLimitedError)
    assert err.retry_after == 3.0
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None) is None
    assert error_from_problem(429, problem("rate-limited", 429)).retry_after is None
