"""Fixtures for the tests against a real gateway (``test_gateway*.py``, ``test_example.py``).

`test/python/pytest.test.ts` (run by ``npm test``) starts a worker and the gateway and sets:

| variable | what |
| --- | --- |
| ``GATEHOUSE_URL`` | the gateway |
| ``GATEHOUSE_AGENT_TOKEN`` / ``GATEHOUSE_AGENT_ID`` / ``GATEHOUSE_AGENT_OWNER`` | the agent the tests act as |
| ``GATEHOUSE_OTHER_AGENT_TOKEN`` | another agent's credential |
| ``GATEHOUSE_EXPIRED_AGENT_TOKEN``, ``GATEHOUSE_REVOKED_AGENT_TOKEN`` | credentials the gateway must refuse |
| ``GATEHOUSE_EXAMPLE_AGENT_TOKEN`` | the example's agent: a person (the node test) denies its held calls |
| ``GATEHOUSE_TEST_REQUIRE_GATEWAY=1`` | a missing variable fails the tests instead of skipping them |

Without ``GATEHOUSE_URL`` (e.g. ``pytest clients/python/tests`` alone) only the unit tests run.
"""

from __future__ import annotations

import os
from typing import AsyncIterator, Iterator

import pytest

from gatehouse import AsyncGatehouse, Gatehouse

from .support import REQUIRED, Stack, last_month as _last_month

@pytest.fixture(scope="session")
def stack() -> Stack:
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        message = f"no running gateway to test against: {', '.join(missing)} not set (npm test -- test/python sets them)"
        if os.environ.get("GATEHOUSE_TEST_REQUIRE_GATEWAY") == "1":
            pytest.fail(message)
        pytest.skip(message)
    env = os.environ
    return Stack(
        url=env["GATEHOUSE_URL"],
        token=env["GATEHOUSE_AGENT_TOKEN"],
        agent_id=env["GATEHOUSE_AGENT_ID"],
        owner=env["GATEHOUSE_AGENT_OWNER"],
        other_token=env["GATEHOUSE_OTHER_AGENT_TOKEN"],
        expired_token=env["GATEHOUSE_EXPIRED_AGENT_TOKEN"],
        revoked_token=env["GATEHOUSE_REVOKED_AGENT_TOKEN"],
        example_token=env["GATEHOUSE_EXAMPLE_AGENT_TOKEN"],
    )


@pytest.fixture
def gh(stack: Stack) -> Iterator[Gatehouse]:
    with Gatehouse(stack.url, stack.token) as client:
        yield client


@pytest.fixture
def other(stack: Stack) -> Iterator[Gatehouse]:
    """The same gateway, as another agent."""
    with Gatehouse(stack.url, stack.other_token) as client:
        yield client


@pytest.fixture
async def agh(stack: Stack) -> AsyncIterator[AsyncGatehouse]:
    async with AsyncGatehouse(stack.url, stack.token) as client:
        yield client


@pytest.fixture(scope="session")
def last_month() -> str:
    return _last_month()
