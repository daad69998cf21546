#!/usr/bin/env python3
"""compat step 0: OpenAPI sanity of Kido's Management API documents.

For each document (GET, anonymous):
  /api/swagger.json
  /api/.well-known/management.openapi.json
it checks that
  * it is JSON and declares OpenAPI 3.0.x (as Logto's document: Logto's clients validate
    it against the OpenAPI 3.0 schema and expect zero errors);
  * it is valid per openapi-spec-validator's OpenAPI 3.0 validator (Python API);
  * it has zero errors against the official OpenAPI 3.0 JSON schema (2021-09-28, as shipped
    in the pinned openapi-spec-validator) run by the pinned `jsonschema` (Draft 4), every
    error counted, nested ones included;
  * every operation has an operationId, unique within the document, matching ^[A-Za-z][A-Za-z0-9]*$;
  * no path parameter name contains ':' (neither in the path template nor in `in: path` parameters);
and prints the operation count.

Usage: check_openapi.py BASE_URL        (or env KIDO_BASE)
Exit status 0 when every check passes, 1 otherwise. Prints one PASS/FAIL line per document.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import re
import sys
import urllib.error
import urllib.request

import jsonschema
from openapi_spec_validator import OpenAPIV30SpecValidator

DOCUMENTS = (
    "/api/swagger.json",
    "/api/.well-known/management.openapi.json",
)
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
OPENAPI_30 = re.compile(r"^3\.0\.\d+$")
OPERATION_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
TEMPLATE_PARAM = re.compile(r"\{([^{}]*)\}")
MAX_REPORTED = 25


def fetch_json(url: str) -> object:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status = response.status
            content_type = response.headers.get("Content-Type", "")
            body = response.read()
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"GET {url} answered HTTP {error.code}: {error.read()[:300]!r}") from None
    except urllib.error.URLError as error:
        raise RuntimeError(f"GET {url} failed: {error.reason}") from None
    if status != 200:
        raise RuntimeError(f"GET {url} answered HTTP {status}, expected 200")
    if not content_type.lower().startswith("application/json"):
        raise RuntimeError(f"GET {url}: Content-Type is {content_type!r}, expected application/json")
    try:
        return json.loads(body)
    except ValueError as error:
        raise RuntimeError(f"GET {url}: body is not JSON ({error})") from None


def spec_errors(spec: dict) -> list[str]:
    """All openapi-spec-validator errors (as OpenAPI 3.0), as short strings."""
    version = spec.get("openapi")
    if not isinstance(version, str) or not OPENAPI_30.match(version):
        return [f"`openapi` is {version!r}, expected 3.0.x"]
    errors: list[str] = []
    try:
        for error in OpenAPIV30SpecValidator(spec).iter_errors():
            where = "/".join(str(part) for part in getattr(error, "path", []) or [])
            message = getattr(error, "message", str(error))
            errors.append(f"{where or '<root>'}: {message}"[:400])
            if len(errors) >= MAX_REPORTED:
                errors.append("… (more errors not shown)")
                break
    except Exception as error:  # e.g. referencing.exceptions.PointerToNowhere for a dangling $ref
        errors.append(f"validator aborted: {type(error).__name__}: {str(error)[:300]}")
    return errors


def schema_errors(spec: dict) -> list[str]:
    """Errors against the OpenAPI 3.0 JSON schema, counting the nested ones (`context`) too,
    the way a client's schema validator reports them."""
    resource = importlib.resources.files("openapi_spec_validator") / "resources/schemas/v3.0/schema.json"
    schema = json.loads(resource.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema)
    errors: list[str] = []
    pending = list(validator.iter_errors(spec))
    while pending:
        error = pending.pop()
        pending.extend(error.context or [])
        where = "/".join(str(part) for part in error.absolute_path)
        errors.append(f"{where or '<root>'}: {error.message}"[:400])
    return errors


def operation_problems(spec: dict) -> tuple[int, list[str]]:
    """Counts operations and lists operationId / path-parameter problems."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    count = 0
    paths = spec.get("paths")
    if not isinstance(paths, dict) or not paths:
        return 0, ["document has no `paths`"]
    for path, item in paths.items():
        if not isinstance(item, dict):
            problems.append(f"{path}: path item is not an object")
            continue
        for name in TEMPLATE_PARAM.findall(path):
            if ":" in name:
                problems.append(f"{path}: path template parameter {{{name}}} contains ':'")
        shared = item.get("parameters") or []
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            count += 1
            label = f"{method.upper()} {path}"
            if not isinstance(operation, dict):
                problems.append(f"{label}: operation is not an object")
                continue
            operation_id = operation.get("operationId")
            if not isinstance(operation_id, str) or not operation_id:
                problems.append(f"{label}: missing operationId")
            else:
                if not OPERATION_ID.match(operation_id):
                    problems.append(f"{label}: operationId {operation_id!r} does not match {OPERATION_ID.pattern}")
                if operation_id in seen:
                    problems.append(f"{label}: operationId {operation_id!r} duplicates {seen[operation_id]}")
                else:
                    seen[operation_id] = label
            for parameter in list(shared) + list(operation.get("parameters") or []):
                if isinstance(parameter, dict) and parameter.get("in") == "path":
                    name = str(parameter.get("name", ""))
                    if ":" in name:
                        problems.append(f"{label}: path parameter name {name!r} contains ':'")
    if count == 0:
        problems.append("document has no operations")
    # The same problem can be reported for every method of a path; keep the first occurrence.
    return count, list(dict.fromkeys(problems))


def check(base: str, document_path: str) -> bool:
    url = base + document_path
    try:
        spec = fetch_json(url)
    except RuntimeError as error:
        print(f"FAIL openapi: {document_path}: {error}")
        return False
    if not isinstance(spec, dict):
        print(f"FAIL openapi: {document_path}: top level is not a JSON object")
        return False

    failures = [f"spec validation: {message}" for message in spec_errors(spec)]
    failures += [f"OpenAPI 3.0 schema: {message}" for message in schema_errors(spec)]
    count, problems = operation_problems(spec)
    failures += problems

    version = spec.get("openapi", spec.get("swagger", "?"))
    if failures:
        print(f"FAIL openapi: {document_path} (OpenAPI {version}, {count} operations): {len(failures)} problem(s)")
        for failure in failures[:MAX_REPORTED]:
            print(f"    - {failure}")
        if len(failures) > MAX_REPORTED:
            print(f"    - … and {len(failures) - MAX_REPORTED} more")
        return False
    print(
        f"PASS openapi: {document_path}: valid OpenAPI {version} (spec validator, 0 OpenAPI 3.0 schema errors), "
        f"{count} operations, operationIds unique"
    )
    return True


def main(argv: list[str]) -> int:
    base = (argv[1] if len(argv) > 1 else os.environ.get("KIDO_BASE", "")).rstrip("/")
    if not base:
        print("usage: check_openapi.py BASE_URL (or set KIDO_BASE)", file=sys.stderr)
        return 2
    results = [check(base, document) for document in DOCUMENTS]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
