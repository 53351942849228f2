"""Opens an MCP session with the Python `mcp` package, declares an intent, and leaves: the client's
own close sends `DELETE /mcp` (with `content-type: application/json` and no body, as mcp 2.x does).

Prints {"sessionId": ...} (the Gatehouse session) once declared, then waits for a line on stdin
before leaving, so the test can count open sessions while it is open.
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


async def main() -> None:
    url = os.environ["GATEHOUSE_MCP_URL"]
    headers = {"Authorization": f"Bearer {os.environ['GATEHOUSE_AGENT_TOKEN']}"}
    async with connect(url, headers) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            await session.initialize()
            result = await session.call_tool("gatehouse_declare_intent", {"intent": "look at last month's billing records"})
            structured = getattr(result, "structured_content", None) or getattr(result, "structuredContent", None)
            print(json.dumps({"sessionId": structured["sessionId"]}), flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    print(json.dumps({"closed": True}), flush=True)


asyncio.run(main())
