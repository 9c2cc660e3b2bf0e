#!/usr/bin/env node
// Interop test: the official MCP TypeScript SDK client against the example servers.
//
//   node sse_client.mjs --url http://127.0.0.1:8000/sse [--progress-url URL] [--transport sse]
//
// `--url` serves the quickstart tools, `--progress-url` (default: `--url`) also serves
// `long_task`. Exits 0 when every check passes; otherwise prints which check failed and why and
// exits 1. The transport is chosen by `--transport`: a Streamable HTTP run only adds an entry
// to TRANSPORTS.
import { parseArgs } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { check, checkLongTask, run, textOf, withTimeout } from "./checks.mjs";

const EXPECTED_TOOLS = {
  add: { required: ["a", "b"], properties: { a: "integer", b: "integer" } },
  echo: { required: ["message"], properties: { message: "string" } },
  uppercase_text: { required: ["text"], properties: { text: "string" } },
  server_time: { required: [], properties: { timezone: null } },
};
const CONCURRENT_CALLS = 25;
const TRANSPORTS = {
  sse: (url) => new SSEClientTransport(new URL(url)),
  streamable: (url) => new StreamableHTTPClientTransport(new URL(url)),
};

// What `echo` reports as its transport, per client transport.
const ECHO_TRANSPORT = { sse: "sse", streamable: "streamable-http" };

async function connect(transport, url, logs) {
  const client = new Client({ name: "mcp-interop-typescript", version: "0.1.0" });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logs.push(n.params.data);
  });
  await client.connect(TRANSPORTS[transport](url));
  return client;
}

async function checkQuickstart(client, transport) {
  const info = client.getServerVersion();
  check(info && info.name, "initialize: no serverInfo");
  console.log(`  initialize: ${info.name} ${info.version}`);

  const listed = await client.listTools();
  const tools = Object.fromEntries(listed.tools.map((t) => [t.name, t]));
  for (const [name, spec] of Object.entries(EXPECTED_TOOLS)) {
    check(name in tools, `tools/list: missing ${name} (got ${Object.keys(tools)})`);
    const schema = tools[name].inputSchema;
    check(schema.type === "object", `${name}: schema type is not object`);
    const required = [...(schema.required ?? [])].sort();
    check(JSON.stringify(required) === JSON.stringify([...spec.required].sort()),
      `${name}: required ${JSON.stringify(schema.required)} != ${JSON.stringify(spec.required)}`);
    for (const [prop, ty] of Object.entries(spec.properties)) {
      check(schema.properties && prop in schema.properties, `${name}: no property ${prop}`);
      if (ty !== null) {
        check(schema.properties[prop].type === ty,
          `${name}.${prop}: ${JSON.stringify(schema.properties[prop])} is not ${ty}`);
      }
    }
  }
  console.log(`  tools/list: ${Object.keys(tools).sort().join(", ")}`);

  let r = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
  check(!r.isError && textOf(r) === "5", `add(2, 3): ${JSON.stringify(r)}`);
  r = await client.callTool({ name: "echo", arguments: { message: "héllo" } });
  const echoed = JSON.parse(textOf(r));
  check(echoed.message === "héllo" && echoed.transport === ECHO_TRANSPORT[transport] && echoed.timestamp,
    `echo: ${JSON.stringify(echoed)}`);
  r = await client.callTool({ name: "uppercase_text", arguments: { text: "abc" } });
  check(textOf(r) === "ABC", `uppercase_text: ${JSON.stringify(r)}`);
  r = await client.callTool({ name: "server_time", arguments: { timezone: "Asia/Tokyo" } });
  const t = JSON.parse(textOf(r));
  check(t.iso.endsWith("[Asia/Tokyo]") && Number.isInteger(t.unix), `server_time: ${JSON.stringify(t)}`);
  console.log("  tools/call add, echo, uppercase_text, server_time: ok");

  r = await client.callTool({ name: "server_time", arguments: { timezone: "Mars/Olympus_Mons" } });
  check(r.isError === true, `an unknown zone must be a tool error: ${JSON.stringify(r)}`);
  check(textOf(r).includes("Mars/Olympus_Mons"), `the error must name the zone: ${textOf(r)}`);
  console.log("  tool error (isError): ok");

  let res = await client.readResource({ uri: "info://server" });
  check(JSON.parse(res.contents[0].text).tools.includes("add"), `resources/read: ${JSON.stringify(res)}`);
  res = await client.readResource({ uri: "greeting://Ada" });
  check(res.contents[0].text === "Hello, Ada!", `resources/read greeting://Ada: ${JSON.stringify(res)}`);
  console.log("  resources/read: ok");

  const p = await client.getPrompt({ name: "summarize", arguments: { text: "The quick brown fox." } });
  check(p.messages.length === 1 && p.messages[0].role === "user"
    && p.messages[0].content.text.includes("The quick brown fox."), `prompts/get: ${JSON.stringify(p)}`);
  console.log("  prompts/get: ok");

  await Promise.all(Array.from({ length: CONCURRENT_CALLS }, async (_, i) => {
    const r = await client.callTool({ name: "add", arguments: { a: i, b: 1000 } });
    check(textOf(r) === String(i + 1000), `concurrent add(${i}, 1000): ${JSON.stringify(r)}`);
  }));
  console.log(`  ${CONCURRENT_CALLS} tools/call in flight at once: ok`);
}

async function checkProgress(client, logs) {
  const events = [];
  const r = await client.callTool(
    { name: "long_task", arguments: { steps: 5, delay_ms: 50 } },
    undefined,
    { onprogress: (p) => events.push(["progress", p.progress]) },
  );
  events.push(["result", null]);
  checkLongTask(r, events, logs);
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      "progress-url": { type: "string" },
      transport: { type: "string", default: "sse" },
    },
  });
  if (!values.url || !(values.transport in TRANSPORTS)) {
    console.error(`usage: node sse_client.mjs --url URL [--progress-url URL] [--transport ${Object.keys(TRANSPORTS).join("|")}]`);
    return 2;
  }
  return run(`typescript/${values.transport}`, "quickstart", async (step) => {
    const client = await connect(values.transport, values.url, []);
    await withTimeout(checkQuickstart(client, values.transport), 60_000, "quickstart checks");
    await client.close();
    step("progress");
    const logs = [];
    const pclient = await connect(values.transport, values["progress-url"] ?? values.url, logs);
    await withTimeout(checkProgress(pclient, logs), 60_000, "progress checks");
    await pclient.close();
  });
}

// Exit explicitly: an SSE connection left open by a failed check must not keep node alive.
process.exit(await main());
