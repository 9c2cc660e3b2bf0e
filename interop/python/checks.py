"""What the interop clients share: checks that fail with a message, the text of a tool
result, the progress-and-logs expectations of `long_task`, and the run that reports the
outcome of named steps as `PASS label` (exit 0) or `FAIL label (step): why` (exit 1)."""

from __future__ import annotations

import sys
import traceback
from typing import Awaitable, Callable


class CheckFailed(Exception):
    """A failed interop check, with a message saying what was expected."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def text_of(result) -> str:
    check(len(result.content) >= 1, f"expected content, got {result!r}")
    first = result.content[0]
    check(first.type == "text", f"expected text content, got {first!r}")
    return first.text


def check_long_task(result, events: list, logs: list) -> None:
    """`long_task` with 5 steps: its result, increasing progress before it, and the
    'started'...'done' log notifications. `events` holds ("progress", value) entries and a
    final ("result", None) appended when the call returned."""
    check(text_of(result) == "completed 5 steps", f"long_task: {result!r}")
    progress = [v for kind, v in events if kind == "progress"]
    check(len(progress) >= 1, "long_task: no progress notification arrived")
    check(events[-1][0] == "result", f"progress arrived after the result: {events}")
    check(all(a < b for a, b in zip(progress, progress[1:])), f"progress not increasing: {progress}")
    print(f"  long_task progress before result, increasing: {progress}")
    texts = [d for d in logs if isinstance(d, str)]
    check(any(d.startswith("started") for d in texts) and "done" in texts,
          f"log notifications 'started'...'done' missing: {texts}")
    print(f"  log notifications: {texts}")


def describe(e: BaseException) -> str:
    """The innermost errors of an exception (task groups wrap them in ExceptionGroups)."""
    if isinstance(e, BaseExceptionGroup):
        return "; ".join(describe(sub) for sub in e.exceptions)
    return f"{type(e).__name__}: {e}"


class Steps:
    """The step a run is at, named in its FAIL line."""

    def __init__(self, first: str) -> None:
        self.name = first

    def __call__(self, name: str) -> None:
        self.name = name


async def run(label: str, first: str, body: Callable[[Steps], Awaitable[None]]) -> int:
    """Runs `body`, which names its steps by calling the `Steps` it is given, and reports."""
    step = Steps(first)
    try:
        await body(step)
    except CheckFailed as e:
        print(f"FAIL {label} ({step.name}): {e}", file=sys.stderr)
        return 1
    except BaseException as e:  # connection errors, timeouts, SDK exceptions
        print(f"FAIL {label} ({step.name}): {describe(e)}", file=sys.stderr)
        traceback.print_exc()
        return 1
    print(f"PASS {label}")
    return 0
