"""An MCP agent driven line by line: the Python `mcp` package (PyPI) against the gateway's /mcp.

Reads GATEHOUSE_MCP_URL and GATEHOUSE_AGENT_TOKEN, initializes one MCP session (one Gatehouse
session), then answers one JSON line on stdout for each JSON line on stdin:
  {"op": "list"}                                  -> {"tools": {name: {"inputSchema", "description", "annotations"}}}
  {"op": "call", "name": ..., "args": {...}}      -> {"isError", "structured", "text"}
  {"op": "resources"}                             -> {"resources": [uri, ...], "prompts": [name, ...]}
  {"op": "read", "uri": ...}                      -> {"contents": [...]} or {"error": {"code", "message"}}
  {"op": "end"}                                   -> exits
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


def say(obj):
    print(json.dumps(obj), flush=True)


async def main() -> None:
    url = os.environ["GATEHOUSE_MCP_URL"]
    headers = {"Authorization": f"Bearer {os.environ['GATEHOUSE_AGENT_TOKEN']}"}
    loop = asyncio.get_running_loop()
    async with connect(url, headers) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            await session.initialize()
            say({"ready": True})
            while True:
                line = await loop.run_in_executor(None, sys.stdin.readline)
                if not line:
                    break
                cmd = json.loads(line)
                if cmd["op"] == "end":
                    break
                if cmd["op"] == "list":
                    tools = await session.list_tools()
                    say({"tools": {
                        t.name: {
                            "inputSchema": attr(t, "input_schema", "inputSchema"),
                            "description": t.description,
                            "annotations": t.annotations.model_dump(exclude_none=True, by_alias=True) if t.annotations else None,
                        }
                        for t in tools.tools
                    }})
                elif cmd["op"] == "resources":
                    resources = await session.list_resources()
                    prompts = await session.list_prompts()
                    say({"resources": [str(r.uri) for r in resources.resources], "prompts": [p.name for p in prompts.prompts]})
                elif cmd["op"] == "read":
                    try:
                        result = await session.read_resource(cmd["uri"])
                        say({"contents": [c.model_dump(mode="json", exclude_none=True) for c in result.contents]})
                    except Exception as err:  # an McpError: the JSON-RPC error the gateway answered
                        error = getattr(err, "error", None)
                        say({"error": {"code": getattr(error, "code", None), "message": str(err)}})
                elif cmd["op"] == "call":
                    say(summary(await session.call_tool(cmd["name"], cmd.get("args", {}))))


asyncio.run(main())
