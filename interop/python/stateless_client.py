#!/usr/bin/env python3
"""Interop test: the official MCP Python SDK client against the example servers at 2026-07-28.

    python stateless_client.py --url http://127.0.0.1:8000/mcp [--progress-url URL]
    python stateless_client.py --url http://127.0.0.1:8000/mcp --listen-until-closed

The client negotiates on its own (`server/discover` first, the stateless revision when the
server offers it) and must land on 2026-07-28: no `initialize`, no session. `--url` serves the
quickstart: tools, resources, prompts, `greet_user` (an elicitation the client answers through
the multi round-trip retry), `long_task` (progress and log notifications on the request's own
stream; `--progress-url` when another server has it) and a `subscriptions/listen` stream.

With `--listen-until-closed` the client opens a listen stream, prints `listening`, and waits for
the server to end it gracefully (its closing result, as at shutdown): exit 0 then, 1 if the
stream is lost without it or nothing happens within 60 s.

Exits 0 when every check passes; otherwise prints which check failed and why, and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import mcp.types as types
from mcp import Client
from mcp.shared.exceptions import MCPError

from checks import CheckFailed, Steps, check, check_long_task, run, text_of

MISSING_REQUIRED_CLIENT_CAPABILITY = -32021

REVISION = "2026-07-28"
EXPECTED_TOOLS = ["add", "echo", "uppercase_text", "server_time", "greet_user"]
CONCURRENT_CALLS = 25


def client_for(url: str, **kwargs) -> Client:
    # The cache is off so every call reaches the server.
    return Client(url, mode="auto", cache=None, **kwargs)


async def check_quickstart(url: str) -> None:
    asked: list[str] = []

    async def on_elicit(_ctx, params: types.ElicitRequestParams):
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"name": "Ada"})

    async with client_for(url, elicitation_callback=on_elicit) as client:
        check(client.protocol_version == REVISION,
              f"negotiated {client.protocol_version!r}, expected {REVISION}")
        info = client.server_info
        check(info is not None and bool(info.name), f"server/discover: no serverInfo ({info!r})")
        print(f"  negotiated {client.protocol_version} with {info.name} {info.version}")

        listed = await client.list_tools()
        names = [t.name for t in listed.tools]
        for name in EXPECTED_TOOLS:
            check(name in names, f"tools/list: {name} missing from {names}")
        again = await client.list_tools()
        check([t.name for t in again.tools] == names, "tools/list order is not stable")
        print(f"  tools/list: {names}")

        r = await client.call_tool("add", {"a": 40, "b": 2})
        check(text_of(r) == "42", f"add(40, 2): {r!r}")
        r = await client.call_tool("echo", {"message": "hi"})
        check(r.structured_content is not None and r.structured_content.get("message") == "hi",
              f"echo structured content: {r!r}")
        r = await client.call_tool("server_time", {"timezone": "Nowhere/City"})
        check(r.is_error is True, f"server_time with an unknown zone must be a tool error: {r!r}")
        print("  tools/call add, echo (structured), server_time (tool error): ok")

        async def one(i: int) -> None:
            r = await client.call_tool("add", {"a": i, "b": 1000})
            check(text_of(r) == str(i + 1000), f"concurrent add({i}, 1000): {r!r}")

        await asyncio.gather(*(one(i) for i in range(CONCURRENT_CALLS)))
        print(f"  {CONCURRENT_CALLS} tools/call in flight at once: ok")

        r = await client.call_tool("greet_user", {})
        check(asked == ["What is your name?"], f"greet_user: elicitation asked {asked!r}")
        check(text_of(r) == "Hello, Ada!", f"greet_user after the answer: {r!r}")
        print("  greet_user: elicitation answered on the retry, 'Hello, Ada!'")

        res = await client.list_resources()
        uris = [str(x.uri) for x in res.resources]
        check("info://server" in uris, f"resources/list: {uris}")
        res = await client.read_resource("info://server")
        check(len(res.contents) == 1 and "greet_user" in res.contents[0].text,
              f"resources/read info://server: {res!r}")
        res = await client.read_resource("greeting://Ada")
        check(res.contents[0].text == "Hello, Ada!", f"resources/read greeting://Ada: {res!r}")
        tpl = await client.list_resource_templates()
        check(any(t.uri_template == "greeting://{name}" for t in tpl.resource_templates),
              f"resources/templates/list: {tpl!r}")
        print("  resources: list, read, template list, template read: ok")

        prompts = await client.list_prompts()
        check(any(p.name == "summarize" for p in prompts.prompts), f"prompts/list: {prompts!r}")
        p = await client.get_prompt("summarize", {"text": "abc"})
        check(len(p.messages) == 1 and "abc" in p.messages[0].content.text, f"prompts/get: {p!r}")
        print("  prompts: list, get: ok")

        async with client.listen(tools_list_changed=True,
                                 resource_subscriptions=["info://server"]) as sub:
            honored = sub.honored
            check(honored.resource_subscriptions == ["info://server"],
                  f"listen: resource subscription not honored: {honored!r}")
            print(f"  subscriptions/listen acknowledged: {honored.model_dump(exclude_none=True)}")


async def check_progress(url: str) -> None:
    logs: list = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params.data)

    events: list[tuple[str, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        events.append(("progress", progress))

    async with client_for(url, logging_callback=on_log, log_level="info") as client:
        check(client.protocol_version == REVISION, f"negotiated {client.protocol_version!r}")
        r = await client.call_tool("long_task", {"steps": 5, "delay_ms": 50},
                                   progress_callback=on_progress)
        events.append(("result", None))
    # Asked for with logLevel info.
    check_long_task(r, events, logs)

    # This client declared no elicitation capability: greet_user must be refused with -32021
    # (HTTP 400) and what it needs, never answered as a tool result.
    async with client_for(url) as client:
        try:
            r = await client.call_tool("greet_user", {})
        except MCPError as e:
            check(e.code == MISSING_REQUIRED_CLIENT_CAPABILITY,
                  f"greet_user without elicitation: code {e.code}, expected -32021 ({e.message})")
            required = (e.data or {}).get("requiredCapabilities", {})
            check("elicitation" in required, f"greet_user: requiredCapabilities {e.data!r}")
        else:
            raise CheckFailed(f"greet_user without elicitation answered {r!r}, expected -32021")
    print("  greet_user without the elicitation capability: -32021, requires elicitation")


async def listen_until_closed(url: str) -> None:
    async with client_for(url) as client:
        async with client.listen(tools_list_changed=True) as sub:
            print("listening", flush=True)
            async for _event in sub:
                pass
    # The loop ended without SubscriptionLost: the server sent its closing result.
    print("  listen stream ended gracefully")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--progress-url")
    parser.add_argument("--listen-until-closed", action="store_true")
    args = parser.parse_args()

    async def body(step: Steps) -> None:
        if args.listen_until_closed:
            step("listen until closed")
            await asyncio.wait_for(listen_until_closed(args.url), 60)
        else:
            await asyncio.wait_for(check_quickstart(args.url), 60)
            step("progress")
            await asyncio.wait_for(check_progress(args.progress_url or args.url), 60)

    return await run(f"python/{REVISION}", "quickstart", body)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
