// What the interop clients share: checks that fail with a message, the text of a tool result,
// the progress-and-logs expectations of `long_task`, a time bound, and the run that reports the
// outcome of named steps as `PASS label` (exit code 0) or `FAIL label (step): why` (1).

export class CheckFailed extends Error {}

export function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

export function textOf(result) {
  check(Array.isArray(result.content) && result.content.length >= 1,
    `expected content, got ${JSON.stringify(result)}`);
  check(result.content[0].type === "text", `expected text content, got ${JSON.stringify(result)}`);
  return result.content[0].text;
}

// `long_task` with 5 steps: its result, increasing progress before it, and the
// 'started'...'done' log notifications. `events` holds ["progress", value] entries and a final
// ["result", null] pushed when the call returned.
export function checkLongTask(result, events, logs) {
  check(textOf(result) === "completed 5 steps", `long_task: ${JSON.stringify(result)}`);
  const progress = events.filter(([k]) => k === "progress").map(([, v]) => v);
  check(progress.length >= 1, "long_task: no progress notification arrived");
  check(events.at(-1)[0] === "result", `progress arrived after the result: ${JSON.stringify(events)}`);
  check(progress.every((v, i) => i === 0 || progress[i - 1] < v), `progress not increasing: ${progress}`);
  console.log(`  long_task progress before result, increasing: ${JSON.stringify(progress)}`);
  const texts = logs.filter((d) => typeof d === "string");
  check(texts.some((d) => d.startsWith("started")) && texts.includes("done"),
    `log notifications 'started'...'done' missing: ${JSON.stringify(texts)}`);
  console.log(`  log notifications: ${JSON.stringify(texts)}`);
}

export function withTimeout(promise, ms, what) {
  let timer;
  const guard = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

// Runs `body(step)`, which names its steps by calling `step(name)`, and reports; the exit code.
export async function run(label, first, body) {
  let current = first;
  try {
    await body((name) => { current = name; });
  } catch (e) {
    const why = e instanceof CheckFailed ? e.message : (e?.stack ?? String(e));
    console.error(`FAIL ${label} (${current}): ${why}`);
    return 1;
  }
  console.log(`PASS ${label}`);
  return 0;
}
