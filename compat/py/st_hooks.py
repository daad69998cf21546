"""Schemathesis hooks for the compat suite's fuzzing step (loaded via SCHEMATHESIS_HOOKS).

Written for schemathesis 4.32.5; used by compat/py/run_schemathesis.py, which sets the env below.

1. Credential protection (`before_call`).

   Schemathesis learns real ids from responses (GET /api/applications lists the bootstrap M2M app,
   GET /api/roles the Management API role, ...) and feeds them to every operation that takes an id,
   in all phases. Observed on Kido with seed 1 and 10 examples: within 10 s it ran
   DELETE /api/applications/<bootstrap app>, DELETE /api/roles/management-api-access and
   DELETE /api/applications/<bootstrap app>/roles/management-api-access, all 204. The bearer token
   the run started with keeps working (Kido checks signature/audience/scope/expiry, no lookups), but
   the bootstrap credentials can no longer obtain a token, so anything after the run is locked out.

   So: every request with a method other than GET/HEAD whose *path* parameters contain a protected
   id has that parameter replaced just before it is sent. Env KIDO_ST_PROTECTED_IDS is a JSON
   object {protected id: decoy id}: the bootstrap app, the roles it holds, the Management API
   resource and its scopes, each mapped to a decoy of the same kind that the driver created for
   the run (an M2M app holding an M2M role that holds a scope of an ordinary API resource), so the
   rewritten request still reaches a real entity and the operation keeps its coverage. A protected
   id without a decoy is replaced by an id that does not exist (the request then answers 404).
   Reads of protected ids stay untouched. `before_call` runs for every request schemathesis sends
   for a test case (all phases, including stateful links), which a `filter_*` hook would not
   guarantee. The rewritten request is checked like any other. The number of rewrites is reported.

   Today no operation can strip the caller's credentials through the request *body* alone (for
   instance PUT /api/applications/{applicationId}/roles names the app in the path). If such an
   operation is added (e.g. key rotation under /api/configs/oidc), extend this hook.

2. False "Created resource not found" (ST302, check ensure_resource_availability) are dropped
   (`filter_failure`) in four cases, all counted in the statistics (the last two: a path
   parameter a link took from a body list, e.g. `[]`, which is no id; Logto's `entity.not_found`
   about ids the body lists, e.g. unknown userIds for an existing role):
   - the case is one this hook rewrote: schemathesis then treats the path parameter as supplied
     by a link from the preceding POST, although it names a decoy (observed: POST /api/resources,
     then PATCH /api/resources/{decoy}/scopes/... flagged after the decoy had been deleted);
   - the 404 is Logto's `entity.not_exists_with_id` about an id that is not in the path, i.e. an id
     the request *body* references (observed: POST /api/applications/{new app}/roles with
     roleIds [")"] → 404 "The roles with ID `)` does not exist."). Logto answers exactly that
     (its routes look every referenced id up and throw 404), so the check cannot be satisfied.

   Also dropped: "Server error" (ST101) for Logto's 501 `connector.not_found` (a message send with
   no connector of its kind, e.g. POST /api/verification-codes with a valid email), which Kido
   answers as Logto does.
3. Run statistics (`after_call`), written as JSON to env KIDO_ST_STATS at exit:
   responses per status, per operation, and how many answered 401 although they carried the
   run's own bearer token (env KIDO_ST_TOKEN). Such 401s mean the token stopped working
   mid-run, which makes the rest of the run meaningless; the driver fails the step on them.
   The Account and Verification APIs (/api/my-account, /api/verifications) are not counted: they
   take a user's token and refuse the Management API's.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import threading
from collections import Counter, defaultdict

import schemathesis

PROTECTED_IDS: dict[str, str] = {
    str(key): str(value) for key, value in json.loads(os.environ.get("KIDO_ST_PROTECTED_IDS", "{}")).items()
}
# Not a Kido id (those are 21 lowercase alphanumerics or fixed seeds); never created by the run.
MISSING_ID = "compat-protected-id-0"
SAFE_METHODS = frozenset({"GET", "HEAD"})

TOKEN = os.environ.get("KIDO_ST_TOKEN", "")
STATS_PATH = os.environ.get("KIDO_ST_STATS", "")

_lock = threading.Lock()
_statuses: Counter[int] = Counter()
_by_operation: dict[str, Counter[str]] = defaultdict(Counter)
_rewrites: Counter[str] = Counter()
_unauthorized_with_token: list[str] = []
_rewritten_cases: set[str] = set()
_dropped: Counter[str] = Counter()
_dropped_examples: list[str] = []


def _no_connector(response) -> bool:
    """Logto answers a message send with no connector of its kind configured 501
    `connector.not_found`, and so does Kido: a documented answer, not a server fault."""
    if int(response.status_code) != 501:
        return False
    try:
        return json.loads(response.content).get("code") == "connector.not_found"
    except (ValueError, TypeError, AttributeError):
        return False


def _label(case) -> str:
    # The request's own method: the unsupported_method check re-sends cases with other methods.
    return f"{case.method.upper()} {case.operation.path}"


def _documented(case) -> bool:
    return case.method.upper() == case.operation.method.upper()


@schemathesis.hook
def before_call(context, case, kwargs):
    if not PROTECTED_IDS or case.method.upper() in SAFE_METHODS or not case.path_parameters:
        return
    for name, value in list(case.path_parameters.items()):
        if isinstance(value, (str, int)) and str(value) in PROTECTED_IDS:
            case.path_parameters[name] = PROTECTED_IDS[str(value)] or MISSING_ID
            with _lock:
                _rewritten_cases.add(case.id)
                # Only documented operations are listed; the unsupported_method check's re-sends
                # (TRACE, OPTIONS, ...) are rewritten too but would only add noise.
                if _documented(case):
                    _rewrites[f"{_label(case)} ({name})"] += 1


_QUOTED_ID = re.compile(r"`([^`]*)`")
# What Kido's ids (and the fixed seed ids) look like.
_ID_SHAPE = re.compile(r"^[A-Za-z0-9_-]+$")


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if getattr(failure, "code", None) == "ST101" and _no_connector(response):
        with _lock:
            _dropped["ST101 for Logto's 501 connector.not_found (no connector of that kind)"] += 1
            if len(_dropped_examples) < 20:
                _dropped_examples.append(f"{_label(case)} → 501 connector.not_found")
        return False
    if getattr(failure, "code", None) != "ST302":
        return True
    with _lock:
        if case.id in _rewritten_cases:
            _dropped["ST302 on a request redirected to a decoy"] += 1
            if len(_dropped_examples) < 20:
                _dropped_examples.append(f"{_label(case)} (redirected to a decoy) → {response.status_code}")
            return False
    try:
        body = json.loads(response.content)
    except (ValueError, TypeError):
        return True
    # A link that fed a path parameter from a request body's list (observed: POST
    # /api/users/{id}/roles with roleIds [] → DELETE /api/users/{id}/roles/[]): not an id at all.
    if any(not _ID_SHAPE.match(str(value)) for value in (case.path_parameters or {}).values()):
        with _lock:
            _dropped["ST302 for a path parameter that is not an id"] += 1
            if len(_dropped_examples) < 20:
                _dropped_examples.append(f"{_label(case)} (path parameter not an id) → {response.status_code}")
        return False
    # Logto's `entity.not_found` for ids the body lists (observed: POST /api/roles/{new role}/users
    # with userIds ["g", …] → 404): the created resource is there, the referenced ones are not.
    if (
        isinstance(body, dict)
        and body.get("code") == "entity.not_found"
        and isinstance(case.body, dict)
        and any(key.endswith("Ids") and value for key, value in case.body.items())
    ):
        with _lock:
            _dropped["ST302 for a 404 about ids the body lists"] += 1
            if len(_dropped_examples) < 20:
                _dropped_examples.append(f"{_label(case)} → 404 {body.get('message')}")
        return False
    if isinstance(body, dict) and body.get("code") == "entity.not_exists_with_id":
        missing = _QUOTED_ID.findall(str(body.get("message", "")))
        in_path = {str(value) for value in (case.path_parameters or {}).values()}
        if missing and not in_path.intersection(missing):
            with _lock:
                _dropped["ST302 for a 404 about an id referenced by the body"] += 1
                if len(_dropped_examples) < 20:
                    _dropped_examples.append(f"{_label(case)} → 404 {body.get('message')}")
            return False
    return True


# The Account and Verification APIs take a user's opaque access token: the run's Management API
# token is rightly refused there (401), which says nothing about the token still working.
USER_API_PREFIXES = ("/api/my-account", "/api/verifications")


def _user_api(case) -> bool:
    return str(getattr(case, "path", "")).startswith(USER_API_PREFIXES)


@schemathesis.hook
def after_call(context, case, response):
    status = int(response.status_code)
    authorization = ""
    request = getattr(response, "request", None)
    if request is not None and request.headers is not None:
        authorization = request.headers.get("Authorization", "") or ""
    with _lock:
        _statuses[status] += 1
        if _documented(case):
            _by_operation[_label(case)][f"{status // 100}xx"] += 1
        if status == 401 and TOKEN and authorization == f"Bearer {TOKEN}" and not _user_api(case):
            if len(_unauthorized_with_token) < 50:
                _unauthorized_with_token.append(f"{request.method} {request.url}")
            else:
                _unauthorized_with_token.append("")


def _write_stats() -> None:
    if not STATS_PATH:
        return
    with _lock:
        data = {
            "responses": sum(_statuses.values()),
            "statuses": {str(code): count for code, count in sorted(_statuses.items())},
            "operations": {label: dict(counts) for label, counts in sorted(_by_operation.items())},
            "protected_rewrites": dict(sorted(_rewrites.items())),
            "dropped_failures": dict(sorted(_dropped.items())),
            "dropped_examples": list(_dropped_examples),
            "unauthorized_with_run_token": len(_unauthorized_with_token),
            "unauthorized_examples": [entry for entry in _unauthorized_with_token if entry][:50],
        }
    with open(STATS_PATH, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)


atexit.register(_write_stats)
