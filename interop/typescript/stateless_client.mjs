#!/usr/bin/env node
// Interop test: the official MCP TypeScript SDK v2 client (`@modelcontextprotocol/client`)
// against the example servers at 2026-07-28.
//
//   node stateless_client.mjs --url http://127.0.0.1:8000/mcp [--progress-url URL]
//   node stateless_client.mjs --url http://127.0.0.1:8000/mcp --listen-until-closed
//
// The client negotiates on its own (`server/discover` first, the stateless revision when the
// server offers it) and must land on 2026-07-28: no `initialize`, no session. `--url` serves the
// quickstart: tools, resources, prompts, `greet_user` (an elicitation the client answers through
// the multi round-trip retry), `long_task` (progress and log notifications on the request's own
// stream; `--progress-url` when another server has it) and a `subscriptions/listen` stream.
//
// With `--listen-until-closed` the client opens a listen stream, prints `listening`, and waits for
// the server to end it gracefully (its closing result, as at shutdown): exit 0 then, 1 if the
// stream is lost without it or nothing happens within 60 s.
import { parseArgs } from "node:util";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { check, checkLongTask, run, textOf, withTimeout } from "./checks.mjs";

const REVISION = "2026-07-28";
const EXPECTED_TOOLS = ["add", "echo", "uppercase_text", "server_time", "greet_user"];
const CONCURRENT_CALLS = 25;

async function connect(url, { onLog, onElicit } = {}) {
  const client = new Client(
    { name: "mcp-interop-typescript-v2", version: "0.1.0" },
    {
      capabilities: onElicit ? { elicitation: {} } : {},
      versionNegotiation: { mode: "auto" },
    },
  );
  if (onElicit) client.setRequestHandler("elicitation/create", onElicit);
  if (onLog) client.setNotificationHandler("notifications/message", onLog);
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  check(client.getNegotiatedProtocolVersion() === REVISION,
    `negotiated ${client.getNegotiatedProtocolVersion()}, expected ${REVISION}`);
  return client;
}

async function checkQuickstart(url) {
  const asked = [];
  const client = await connect(url, {
    onElicit: async (request) => {
      asked.push(request.params.message);
      return { action: "accept", content: { name: "Ada" } };
    },
  });
  try {
    const info = client.getServerVersion();
    check(info && info.name, "server/discover: no serverInfo");
    console.log(`  negotiated ${client.getNegotiatedProtocolVersion()} with ${info.name} ${info.version}`);

    const listed = await client.listTools({}, { cacheMode: "bypass" });
    const names = listed.tools.map((t) => t.name);
    for (const name of EXPECTED_TOOLS) check(names.includes(name), `tools/list: ${name} missing from ${names}`);
    console.log(`  tools/list: ${names.join(", ")}`);

    let r = await client.callTool({ name: "add", arguments: { a: 40, b: 2 } });
    check(textOf(r) === "42", `add(40, 2): ${JSON.stringify(r)}`);
    r = await client.callTool({ name: "echo", arguments: { message: "hi" } });
    check(r.structuredContent?.message === "hi", `echo structured content: ${JSON.stringify(r)}`);
    r = await client.callTool({ name: "server_time", arguments: { timezone: "Nowhere/City" } });
    check(r.isError === true, `server_time with an unknown zone must be a tool error: ${JSON.stringify(r)}`);
    console.log("  tools/call add, echo (structured), server_time (tool error): ok");

    await Promise.all(Array.from({ length: CONCURRENT_CALLS }, async (_, i) => {
      const r = await client.callTool({ name: "add", arguments: { a: i, b: 1000 } });
      check(textOf(r) === String(i + 1000), `concurrent add(${i}, 1000): ${JSON.stringify(r)}`);
    }));
    console.log(`  ${CONCURRENT_CALLS} tools/call in flight at once: ok`);

    r = await client.callTool({ name: "greet_user", arguments: {} });
    check(asked.length === 1 && asked[0] === "What is your name?", `greet_user asked ${JSON.stringify(asked)}`);
    check(textOf(r) === "Hello, Ada!", `greet_user after the answer: ${JSON.stringify(r)}`);
    console.log("  greet_user: elicitation answered on the retry, 'Hello, Ada!'");

    const res = await client.listResources({}, { cacheMode: "bypass" });
    check(res.resources.some((x) => x.uri === "info://server"), `resources/list: ${JSON.stringify(res)}`);
    let read = await client.readResource({ uri: "info://server" }, { cacheMode: "bypass" });
    check(read.contents.length === 1 && read.contents[0].text.includes("greet_user"),
      `resources/read info://server: ${JSON.stringify(read)}`);
    read = await client.readResource({ uri: "greeting://Ada" }, { cacheMode: "bypass" });
    check(read.contents[0].text === "Hello, Ada!", `resources/read greeting://Ada: ${JSON.stringify(read)}`);
    const tpl = await client.listResourceTemplates({}, { cacheMode: "bypass" });
    check(tpl.resourceTemplates.some((t) => t.uriTemplate === "greeting://{name}"),
      `resources/templates/list: ${JSON.stringify(tpl)}`);
    console.log("  resources: list, read, template list, template read: ok");

    const prompts = await client.listPrompts({}, { cacheMode: "bypass" });
    check(prompts.prompts.some((p) => p.name === "summarize"), `prompts/list: ${JSON.stringify(prompts)}`);
    const p = await client.getPrompt({ name: "summarize", arguments: { text: "abc" } });
    check(p.messages.length === 1 && p.messages[0].content.text.includes("abc"), `prompts/get: ${JSON.stringify(p)}`);
    console.log("  prompts: list, get: ok");

    const sub = await client.listen({ toolsListChanged: true, resourceSubscriptions: ["info://server"] });
    check(JSON.stringify(sub.honoredFilter.resourceSubscriptions) === JSON.stringify(["info://server"]),
      `listen: resource subscription not honored: ${JSON.stringify(sub.honoredFilter)}`);
    console.log(`  subscriptions/listen acknowledged: ${JSON.stringify(sub.honoredFilter)}`);
    await sub.close();
    check((await sub.closed) === "local", "listen: close() did not end the subscription locally");
  } finally {
    await client.close();
  }
}

async function checkProgress(url) {
  const logs = [];
  const client = await connect(url, { onLog: (n) => logs.push(n.params.data) });
  try {
    // 2026-07-28 has no logging/setLevel: a request asks for logs with `logLevel` in its `_meta`.
    const events = [];
    const r = await client.callTool(
      {
        name: "long_task",
        arguments: { steps: 5, delay_ms: 50 },
        _meta: { "io.modelcontextprotocol/logLevel": "info" },
      },
      { onprogress: (p) => events.push(["progress", p.progress]) },
    );
    events.push(["result", null]);
    checkLongTask(r, events, logs);
  } finally {
    await client.close();
  }
  // This client declared no elicitation capability: greet_user must be refused with -32021
  // (HTTP 400) and what it needs, never answered as a tool result.
  const bare = await connect(url);
  try {
    let answered;
    try {
      answered = await bare.callTool({ name: "greet_user", arguments: {} });
    } catch (e) {
      check(e.code === -32021, `greet_user without elicitation: ${e?.code} ${e?.message}, expected -32021`);
      check(e.data?.requiredCapabilities?.elicitation !== undefined,
        `greet_user: requiredCapabilities ${JSON.stringify(e.data)}`);
    }
    check(answered === undefined, `greet_user without elicitation answered ${JSON.stringify(answered)}`);
    console.log("  greet_user without the elicitation capability: -32021, requires elicitation");
  } finally {
    await bare.close();
  }
}

async function listenUntilClosed(url) {
  const client = await connect(url);
  const sub = await client.listen({ toolsListChanged: true });
  console.log("listening");
  const how = await sub.closed;
  check(how === "graceful", `listen stream ended ${how}, expected the server's graceful close`);
  console.log("  listen stream ended gracefully");
  await client.close().catch(() => {});
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      "progress-url": { type: "string" },
      "listen-until-closed": { type: "boolean", default: false },
    },
  });
  if (!values.url) {
    console.error("usage: stateless_client.mjs --url URL [--progress-url URL] [--listen-until-closed]");
    return 2;
  }
  return run(`typescript-v2/${REVISION}`, "quickstart", async (step) => {
    if (values["listen-until-closed"]) {
      step("listen until closed");
      await withTimeout(listenUntilClosed(values.url), 60_000, "listen until closed");
    } else {
      await withTimeout(checkQuickstart(values.url), 60_000, "quickstart");
      step("progress");
      await withTimeout(checkProgress(values["progress-url"] ?? values.url), 60_000, "progress");
    }
  });
}

process.exitCode = await main();
