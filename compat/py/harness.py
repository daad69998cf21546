"""Tiny test harness shared by the Python compat steps (same output style as compat/node/*.mjs).

Every check prints "PASS <suite>: <step> (<ms> ms)"; the first failure prints
"FAIL <suite>: <step>: <reason>" and the step exits 1 (see `run`).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
import time
import traceback
from typing import Any, Callable


class CheckError(Exception):
    """A failed expectation (as opposed to a crash of the script itself)."""


def fail(message: str) -> None:
    raise CheckError(message)


def check(condition: object, message: str) -> None:
    if not condition:
        raise CheckError(message)


def show(value: object, limit: int = 600) -> str:
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        try:
            value = json.dumps(value, default=str)
        except (TypeError, ValueError):
            value = repr(value)
    return value if len(value) <= limit else value[:limit] + "…"


def eq(actual: object, expected: object, what: str) -> None:
    if actual != expected:
        raise CheckError(f"{what}: expected {show(expected)}, got {show(actual)}")


def describe_response(response: Any) -> str:
    """`HTTP <status> <content-type> <body>` of a requests.Response, for failure messages."""
    try:
        body = response.text
    except Exception:  # noqa: BLE001 - only for messages
        body = "<unreadable>"
    return (
        f"HTTP {response.status_code} ({response.headers.get('Content-Type', 'no Content-Type')}) "
        f"{response.request.method} {response.url}: {show(body, 400)}"
    )


def expect_status(response: Any, expected: int | tuple[int, ...], what: str) -> Any:
    allowed = expected if isinstance(expected, tuple) else (expected,)
    if response.status_code not in allowed:
        raise CheckError(
            f"{what}: expected HTTP {' or '.join(map(str, allowed))}, got {describe_response(response)}"
        )
    return response


def expect_json(response: Any, what: str) -> Any:
    content_type = response.headers.get("Content-Type", "").lower()
    check(
        content_type.startswith("application/json") or "+json" in content_type.split(";")[0],
        f"{what}: expected a JSON Content-Type, got {describe_response(response)}",
    )
    try:
        return response.json()
    except ValueError:
        fail(f"{what}: body is not JSON: {describe_response(response)}")


class Suite:
    """Runs named steps in order and reports them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.current = "(setup)"
        self.passed = 0

    def step(self, name: str, fn: Callable[[], Any]) -> Any:
        """Runs the synchronous fn and prints PASS with the duration (use `astep` in async code)."""
        self.current = name
        started = time.monotonic()
        result = fn()
        if inspect.iscoroutine(result):
            result.close()
            raise TypeError(f"step {name!r}: use `await suite.astep(...)` for async functions")
        self.passed += 1
        print(f"PASS {self.name}: {name} ({int((time.monotonic() - started) * 1000)} ms)", flush=True)
        return result

    async def astep(self, name: str, fn: Callable[[], Any]) -> Any:
        """Async variant: awaits fn() when it returns an awaitable."""
        self.current = name
        started = time.monotonic()
        result = fn()
        if inspect.isawaitable(result):
            result = await result
        self.passed += 1
        print(f"PASS {self.name}: {name} ({int((time.monotonic() - started) * 1000)} ms)", flush=True)
        return result

    def run(self, main: Callable[["Suite"], Any]) -> None:
        """Runs main(suite) (sync or async) and exits 0 on success, 1 on the first failure."""
        try:
            result = main(self)
            if inspect.iscoroutine(result):
                asyncio.run(result)
        except CheckError as error:
            print(f"FAIL {self.name}: {self.current}: {error}", flush=True)
            sys.exit(1)
        except Exception:  # noqa: BLE001 - report any crash as a failure of the current step
            print(f"FAIL {self.name}: {self.current}: unexpected exception", flush=True)
            traceback.print_exc()
            sys.stdout.flush()
            sys.exit(1)
        print(f"PASS {self.name}: all {self.passed} steps", flush=True)
