"""The MCP scenario with the Python `mcp` package (PyPI) as the client, against the gateway's /mcp.

Reads GATEHOUSE_MCP_URL and GATEHOUSE_AGENT_TOKEN; prints one JSON object with what it saw
(test/mcp/python.test.ts checks it, and the production database and audit trail).
"""
import asyncio
import json
import os
import sys

from mcp import ClientSession

try:  # mcp 2.x: headers go on the HTTP client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    def connect(url, headers):
        return streamable_http_client(url, http_client=create_mcp_http_client(headers=headers))

except ImportError:  # mcp 1.x
    from mcp.client.streamable_http import streamablehttp_client

    def connect(url, headers):
        return streamablehttp_client(url, headers=headers)


def attr(obj, snake, camel):
    """A field under its mcp 2.x (snake_case) or 1.x (camelCase) name."""
    return getattr(obj, snake) if hasattr(obj, snake) else getattr(obj, camel)


def summary(result):
    return {
        "isError": bool(attr(result, "is_error", "isError")),
        "structured": attr(result, "structured_content", "structuredContent"),
        "text": result.content[0].text if result.content else "",
    }


async def main() -> None:
    url = os.environ["GATEHOUSE_MCP_URL"]
    headers = {"Authorization": f"Bearer {os.environ['GATEHOUSE_AGENT_TOKEN']}"}
    out = {}
    async with connect(url, headers) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            out["tools"] = {
                t.name: {
                    "readOnlyHint": attr(t.annotations, "read_only_hint", "readOnlyHint") if t.annotations else None,
                    "destructiveHint": attr(t.annotations, "destructive_hint", "destructiveHint") if t.annotations else None,
                    "schemaType": attr(t, "input_schema", "inputSchema").get("type"),
                }
                for t in tools.tools
            }
            out["declare"] = summary(await session.call_tool("gatehouse_declare_intent", {"intent": "clean up last month's test billing records"}))
            out["query"] = summary(await session.call_tool("billing.query", {"testOnly": True, "limit": 3}))
            out["delete"] = summary(await session.call_tool("billing.deleteRecords", json.loads(os.environ["GATEHOUSE_DELETE_ARGS"])))
            # Ask the test to deny the held call, then wait for the outcome.
            print(json.dumps({"held": out["delete"]["structured"]}), flush=True)
            sys.stdin.readline()
            approval_id = out["delete"]["structured"]["approvalId"]
            out["awaited"] = summary(await session.call_tool("gatehouse_await_approval", {"approvalId": approval_id, "timeoutSeconds": 60}))
            out["list"] = summary(await session.call_tool("volumes.list", {}))
            out["unmount"] = summary(await session.call_tool("volumes.unmount", {"volumeId": "vol-scratch01"}))
    print(json.dumps({"done": out}), flush=True)


asyncio.run(main())
