#!/usr/bin/env python3
"""Interop test: the official MCP Python SDK client against the example servers.

    python sse_client.py --url http://127.0.0.1:8000/sse [--progress-url URL] [--transport sse]

`--url` serves the quickstart tools, `--progress-url` (default: `--url`) also serves
`long_task`. Exits 0 when every check passes; otherwise prints which check failed and why, and
exits 1. The transport is chosen by `--transport`, so a Streamable HTTP run only adds a
connector to `CONNECTORS`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from contextlib import asynccontextmanager

import mcp.types as types
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from checks import Steps, check, check_long_task, run, text_of

EXPECTED_TOOLS = {
    "add": {"required": ["a", "b"], "properties": {"a": "integer", "b": "integer"}},
    "echo": {"required": ["message"], "properties": {"message": "string"}},
    "uppercase_text": {"required": ["text"], "properties": {"text": "string"}},
    "server_time": {"required": [], "properties": {"timezone": None}},
}
CONCURRENT_CALLS = 25


@asynccontextmanager
async def connect_sse(url: str):
    async with sse_client(url) as (read, write):
        yield read, write


@asynccontextmanager
async def connect_streamable(url: str):
    async with streamable_http_client(url) as streams:
        yield streams[0], streams[1]


CONNECTORS = {"sse": connect_sse, "streamable": connect_streamable}
# What `echo` reports as its transport, per client transport.
ECHO_TRANSPORT = {"sse": "sse", "streamable": "streamable-http"}


@asynccontextmanager
async def session_for(transport: str, url: str, logs: list):
    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params.data)

    async with CONNECTORS[transport](url) as (read, write):
        async with ClientSession(read, write, logging_callback=on_log) as session:
            yield session


async def check_quickstart(session: ClientSession, transport: str) -> None:
    init = await session.initialize()
    check(bool(init.server_info.name), "initialize: server_info.name is empty")
    print(f"  initialize: {init.server_info.name} {init.server_info.version}, "
          f"protocol {init.protocol_version}")

    listed = await session.list_tools()
    tools = {t.name: t for t in listed.tools}
    for name, spec in EXPECTED_TOOLS.items():
        check(name in tools, f"tools/list: missing {name!r} (got {sorted(tools)})")
        schema = tools[name].input_schema
        check(schema.get("type") == "object", f"{name}: schema type is not object: {schema}")
        check(sorted(schema.get("required", [])) == sorted(spec["required"]),
              f"{name}: required {schema.get('required')} != {spec['required']}")
        for prop, ty in spec["properties"].items():
            check(prop in schema.get("properties", {}), f"{name}: no property {prop!r}: {schema}")
            if ty is not None:
                check(schema["properties"][prop].get("type") == ty,
                      f"{name}.{prop}: type {schema['properties'][prop]} != {ty}")
    print(f"  tools/list: {sorted(tools)}")

    r = await session.call_tool("add", {"a": 2, "b": 3})
    check(not r.is_error and text_of(r) == "5", f"add(2, 3): {r!r}")
    r = await session.call_tool("echo", {"message": "héllo"})
    echoed = json.loads(text_of(r))
    check(echoed["message"] == "héllo" and echoed["transport"] == ECHO_TRANSPORT[transport] and "timestamp" in echoed,
          f"echo: {echoed}")
    r = await session.call_tool("uppercase_text", {"text": "abc"})
    check(text_of(r) == "ABC", f"uppercase_text: {r!r}")
    r = await session.call_tool("server_time", {"timezone": "Asia/Tokyo"})
    t = json.loads(text_of(r))
    check(t["iso"].endswith("[Asia/Tokyo]") and isinstance(t["unix"], int), f"server_time: {t}")
    print("  tools/call add, echo, uppercase_text, server_time: ok")

    r = await session.call_tool("server_time", {"timezone": "Mars/Olympus_Mons"})
    check(r.is_error is True, f"an unknown zone must be a tool error: {r!r}")
    check("Mars/Olympus_Mons" in text_of(r), f"the error must name the zone: {text_of(r)!r}")
    print("  tool error (isError): ok")

    res = await session.read_resource("info://server")
    check(len(res.contents) == 1, f"resources/read info://server: {res!r}")
    info = json.loads(res.contents[0].text)
    check("add" in info["tools"], f"resources/read info://server: {info}")
    res = await session.read_resource("greeting://Ada")
    check(res.contents[0].text == "Hello, Ada!", f"resources/read greeting://Ada: {res!r}")
    print("  resources/read: ok")

    p = await session.get_prompt("summarize", {"text": "The quick brown fox."})
    check(len(p.messages) == 1 and p.messages[0].role == "user", f"prompts/get: {p!r}")
    check("The quick brown fox." in p.messages[0].content.text, f"prompts/get: {p!r}")
    print("  prompts/get: ok")

    async def one(i: int) -> None:
        r = await session.call_tool("add", {"a": i, "b": 1000})
        check(text_of(r) == str(i + 1000), f"concurrent add({i}, 1000): {r!r}")

    await asyncio.gather(*(one(i) for i in range(CONCURRENT_CALLS)))
    print(f"  {CONCURRENT_CALLS} tools/call in flight at once: ok")


async def check_progress(session: ClientSession, logs: list) -> None:
    await session.initialize()
    events: list[tuple[str, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        events.append(("progress", progress))

    r = await session.call_tool("long_task", {"steps": 5, "delay_ms": 50},
                                progress_callback=on_progress)
    events.append(("result", None))
    # Log notifications travel on the same stream before the response.
    check_long_task(r, events, logs)


async def check_state(session: ClientSession) -> None:
    await session.initialize()

    async def put(i: int) -> None:
        r = await session.call_tool("set", {"key": f"k{i:02}", "value": f"v{i}"})
        check(not r.is_error, f"set k{i:02}: {r!r}")

    await asyncio.gather(*(put(i) for i in range(CONCURRENT_CALLS)))
    r = await session.call_tool("get", {"key": "k07"})
    check(text_of(r) == "v7", f"get k07: {r!r}")
    r = await session.call_tool("list", {})
    keys = json.loads(text_of(r))["keys"]
    check(keys == sorted(f"k{i:02}" for i in range(CONCURRENT_CALLS)), f"list: {keys}")
    r = await session.call_tool("get", {"key": "missing"})
    check(r.is_error is True, f"get of a missing key must be a tool error: {r!r}")
    print(f"  state: {CONCURRENT_CALLS} concurrent set, get, list, missing key: ok")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--progress-url")
    parser.add_argument("--state-url", help="the state example (optional)")
    parser.add_argument("--transport", choices=sorted(CONNECTORS), default="sse")
    args = parser.parse_args()

    async def body(step: Steps) -> None:
        async with session_for(args.transport, args.url, []) as session:
            await asyncio.wait_for(check_quickstart(session, args.transport), 60)
        step("progress")
        logs: list = []
        async with session_for(args.transport, args.progress_url or args.url, logs) as session:
            await asyncio.wait_for(check_progress(session, logs), 60)
        if args.state_url:
            step("state")
            async with session_for(args.transport, args.state_url, []) as session:
                await asyncio.wait_for(check_state(session), 60)

    return await run(f"python/{args.transport}", "quickstart", body)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
