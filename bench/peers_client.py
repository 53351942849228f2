"""The one client of `npm run bench:peers`: the Python `mcp` package calling one tool on several paths.

Reads a JSON plan on stdin's first line: {"targets": [{"name", "url", "tool", "sessions": [headers, ...]}],
"arguments", "warmup", "calls", "rounds", "per_caller", "concurrency"}. Every target gets `concurrency`
MCP sessions (one per headers map), each warmed up. Then, in one run:
- latency: `calls` iterations, each timing one call on every target's first session, in an order that
  rotates per iteration, so load drift on the shared machine hits every path alike;
- throughput: `rounds` rounds, each running, per target in rotating order, `per_caller` sequential calls
  on one session, then `per_caller` calls on each of the `concurrency` sessions at once.
Before and after each concurrent block it prints {"mark": ...} and waits for a line on stdin (the bench
reads the processes' CPU there). Last line: {"result": {target: {...}}}.
"""
import asyncio
import contextlib
import json
import sys
import time

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def ok(target, result):
    """Whether the call did what it was asked (Gatehouse answers with its own status)."""
    structured = getattr(result, "structured_content", None)
    if target["name"] == "gatehouse":
        return isinstance(structured, dict) and structured.get("status") == "executed"
    return not result.is_error


async def call(target, session, arguments):
    try:
        result = await session.call_tool(target["tool"], arguments)
    except Exception as err:
        raise RuntimeError(f"{target['name']}: {target['tool']} failed: {err!r}") from err
    if not ok(target, result):
        text = result.content[0].text if result.content else ""
        raise RuntimeError(f"{target['name']} call failed: {text[:300]}")


async def mark(label):
    print(json.dumps({"mark": label}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


def pct(sorted_ms, p):
    i = min(len(sorted_ms) - 1, max(0, -(-p * len(sorted_ms) // 100) - 1))
    return round(sorted_ms[i], 2)


async def main():
    plan = json.loads(sys.stdin.readline())
    targets, arguments = plan["targets"], plan["arguments"]
    async with contextlib.AsyncExitStack() as stack:
        sessions = {}
        for t in targets:
            sessions[t["name"]] = []
            for headers in t["sessions"]:
                try:
                    streams = await stack.enter_async_context(streamable_http_client(t["url"], http_client=create_mcp_http_client(headers=headers)))
                    s = await stack.enter_async_context(ClientSession(streams[0], streams[1]))
                    await s.initialize()
                except Exception as err:
                    raise RuntimeError(f"{t['name']}: initialize failed: {err!r}") from err
                sessions[t["name"]].append(s)
        for _ in range(plan["warmup"]):
            for t in targets:
                await asyncio.gather(*(call(t, s, arguments) for s in sessions[t["name"]]))

        latency = {t["name"]: [] for t in targets}
        for i in range(plan["calls"]):
            for k in range(len(targets)):
                t = targets[(i + k) % len(targets)]
                start = time.perf_counter()
                await call(t, sessions[t["name"]][0], arguments)
                latency[t["name"]].append((time.perf_counter() - start) * 1000)

        seq = {t["name"]: [0, 0.0] for t in targets}
        conc = {t["name"]: [0, 0.0] for t in targets}
        n = plan["per_caller"]

        async def caller(t, s):
            for _ in range(n):
                await call(t, s, arguments)

        for r in range(plan["rounds"]):
            for k in range(len(targets)):
                t = targets[(r + k) % len(targets)]
                name = t["name"]
                start = time.perf_counter()
                await caller(t, sessions[name][0])
                seq[name][0] += n
                seq[name][1] += time.perf_counter() - start
                await mark(f"{name}:start")
                start = time.perf_counter()
                await asyncio.gather(*(caller(t, s) for s in sessions[name]))
                conc[name][1] += time.perf_counter() - start
                conc[name][0] += n * len(sessions[name])
                await mark(f"{name}:end")

        result = {}
        for t in targets:
            name = t["name"]
            ms = sorted(latency[name])
            result[name] = {
                "p50_ms": pct(ms, 50),
                "p99_ms": pct(ms, 99),
                "seq_per_s": round(seq[name][0] / seq[name][1], 1),
                "conc_per_s": round(conc[name][0] / conc[name][1], 1),
                "conc_calls": conc[name][0],
            }
    print(json.dumps({"result": result}), flush=True)


def leaves(err):
    """The innermost errors of a task group's exception group (what actually went wrong)."""
    if isinstance(err, BaseExceptionGroup):
        return [leaf for e in err.exceptions for leaf in leaves(e)]
    return [err]


try:
    asyncio.run(main())
except BaseException as err:  # one line per cause, not the task groups' nesting
    for leaf in leaves(err):
        print(f"{type(leaf).__name__}: {leaf}", file=sys.stderr)
    sys.exit(1)
