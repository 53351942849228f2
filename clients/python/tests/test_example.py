"""`examples/ten_line_agent.py` runs as is against the real gateway.

Its delete is held for a person: the node test that runs this suite plays the person in a second
terminal and denies every held call of the example's agent (`GATEHOUSE_EXAMPLE_AGENT_TOKEN`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from .support import Stack

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "ten_line_agent.py"


def test_the_ten_line_agent_runs_as_is(stack: Stack) -> None:
    env = {**os.environ, "GATEHOUSE_URL": stack.url, "GATEHOUSE_AGENT_TOKEN": stack.example_token}
    run = subprocess.run([sys.executable, str(EXAMPLE)], env=env, capture_output=True, text=True, timeout=180, check=False)
    output = f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    assert run.returncode == 0, output
    lines = run.stdout.splitlines()
    assert len(lines) == 3, output
    assert re.fullmatch(r"executed \d+ test records", lines[0]), output
    assert re.fullmatch(r"held for approval \S+:2", lines[1]), output
    assert lines[2].startswith("denied ["), output
    assert "'approval.denied'" in lines[2], output
