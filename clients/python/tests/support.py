"""What the tests against a real gateway share (the fixtures are in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

INTENT = "clean up the test billing records from last month"

REQUIRED = (
    "GATEHOUSE_URL",
    "GATEHOUSE_AGENT_TOKEN",
    "GATEHOUSE_AGENT_ID",
    "GATEHOUSE_AGENT_OWNER",
    "GATEHOUSE_OTHER_AGENT_TOKEN",
    "GATEHOUSE_EXPIRED_AGENT_TOKEN",
    "GATEHOUSE_REVOKED_AGENT_TOKEN",
    "GATEHOUSE_EXAMPLE_AGENT_TOKEN",
)


@dataclass(frozen=True)
class Stack:
    url: str
    token: str
    agent_id: str
    owner: str
    other_token: str
    expired_token: str
    revoked_token: str
    example_token: str


def last_month() -> str:
    """Last month (UTC) as `YYYY-MM`, the period the sample billing tools take."""
    return (datetime.now(timezone.utc).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
