#!/usr/bin/env python3
"""Interop test: the official MCP Python SDK client against the `oauth` example server.

    python oauth_client.py --url http://127.0.0.1:8000/mcp --transport streamable

Discovers the authorization server the way the MCP specification describes (401 challenge,
`resource_metadata`, protected-resource metadata, authorization-server metadata), gets tokens
from the test issuer (`mcp-test-issuer`, whose `GET /token` stands in for the browser login),
then runs the quickstart flow with a token granting `echo`, and checks that a token without it
sees `add` only and cannot call `echo`. Exits 0 when every check passes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import urllib.parse
from contextlib import asynccontextmanager

import httpx2
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from checks import Steps, check, run


def challenge_params(header: str) -> dict[str, str]:
    check(header.startswith("Bearer "), f"challenge scheme: {header!r}")
    return dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', header))


async def discover(url: str) -> tuple[str, str]:
    """The resource URL and the issuer, found from an unauthenticated request."""
    async with httpx2.AsyncClient(timeout=10) as http:
        r = await http.post(url, json={}, headers={"Accept": "application/json, text/event-stream"}) \
            if url.endswith("/mcp") else await http.get(url)
        check(r.status_code == 401, f"expected 401 without a token, got {r.status_code}")
        params = challenge_params(r.headers["www-authenticate"])
        meta_url = params["resource_metadata"]
        meta = (await http.get(meta_url)).json()
        check(meta["bearer_methods_supported"] == ["header"], f"metadata: {meta}")
        issuer = meta["authorization_servers"][0]
        asm = (await http.get(issuer.rstrip("/") + "/.well-known/oauth-authorization-server")).json()
        check(asm["issuer"] == issuer, f"authorization server metadata: {asm}")
        print(f"  discovered: resource {meta['resource']}, issuer {issuer}, "
              f"challenge scope {params.get('scope')!r}")
        return meta["resource"], issuer


async def mint(issuer: str, resource: str, scope: str) -> str:
    query = urllib.parse.urlencode({"aud": resource, "scope": scope})
    async with httpx2.AsyncClient(timeout=10) as http:
        r = await http.get(f"{issuer}/token?{query}")
        check(r.status_code == 200, f"test issuer /token: {r.status_code}")
        return r.json()["access_token"]


@asynccontextmanager
async def session(transport: str, url: str, token: str):
    headers = {"Authorization": f"Bearer {token}"}
    if transport == "sse":
        async with sse_client(url, headers=headers) as (read, write):
            async with ClientSession(read, write) as s:
                yield s
    else:
        async with create_mcp_http_client(headers=headers) as http:
            async with streamable_http_client(url, http_client=http) as streams:
                async with ClientSession(streams[0], streams[1]) as s:
                    yield s


async def with_scope(transport: str, url: str, token: str) -> None:
    async with session(transport, url, token) as s:
        await s.initialize()
        tools = sorted(t.name for t in (await s.list_tools()).tools)
        check("add" in tools and "echo" in tools, f"tools/list with scope echo: {tools}")
        r = await s.call_tool("add", {"a": 2, "b": 3})
        check(not r.is_error and r.content[0].text == "5", f"add: {r!r}")
        r = await s.call_tool("echo", {"message": "hi"})
        check(json.loads(r.content[0].text)["message"] == "hi", f"echo: {r!r}")
        print(f"  token with scope echo: tools {tools}, add and echo called")


async def without_scope(transport: str, url: str, token: str) -> None:
    async with session(transport, url, token) as s:
        await s.initialize()
        tools = sorted(t.name for t in (await s.list_tools()).tools)
        check("add" in tools and "echo" not in tools, f"tools/list without scope echo: {tools}")
        r = await s.call_tool("add", {"a": 1, "b": 1})
        check(r.content[0].text == "2", f"add: {r!r}")
        print(f"  token without scope echo: tools {tools}")
    # Calling echo anyway is refused with 403 insufficient_scope.
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"message": "x"}}}
    if transport == "streamable":
        async with httpx2.AsyncClient(timeout=10) as http:
            init = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "probe", "version": "1"}}}
            h = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
            r = await http.post(url, json=init, headers=h)
            h["Mcp-Session-Id"] = r.headers["mcp-session-id"]
            r = await http.post(url, json=body, headers=h)
            check(r.status_code == 403, f"echo without scope: {r.status_code}")
            params = challenge_params(r.headers["www-authenticate"])
            check(params["error"] == "insufficient_scope" and params["scope"] == "echo",
                  f"403 challenge: {params}")
            print(f"  echo without scope: 403 {params['error']} scope={params['scope']!r}")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--transport", choices=["sse", "streamable"], default="streamable")
    args = parser.parse_args()

    async def body(step: Steps) -> None:
        resource, issuer = await asyncio.wait_for(discover(args.url), 30)
        step("token with scope")
        token = await mint(issuer, resource, "echo")
        await asyncio.wait_for(with_scope(args.transport, args.url, token), 60)
        step("token without scope")
        token = await mint(issuer, resource, "")
        await asyncio.wait_for(without_scope(args.transport, args.url, token), 60)

    return await run(f"python/oauth/{args.transport}", "discovery", body)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
