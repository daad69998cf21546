#!/usr/bin/env python3
"""compat step "fixtures": creates, through the Management API, what the flow steps sign in with.

With the bootstrap M2M credentials (the file compat/run writes the path of, read exactly like
compat/node/mapi.mjs does) it gets a Management API token (client_credentials,
client_secret_post, resource https://default.logto.app/api, scope all) and creates:

  * a Traditional app (redirectUris [REDIRECT_URI], postLogoutRedirectUris [POST_LOGOUT_URI])
    and reads its secret: GET /api/applications/{id}/secrets, field `value` of the first row;
  * an SPA app (public client, no secret) with the same URIs;
  * a user (POST /api/users {username, password});
  * an API resource https://api.example.com with the scope read:foo;
  * a User role granting read:foo, assigned to the user.

Names are unique per run. The result is written as JSON (see `create` for the shape) to the path
given as argument, or to $KIDO_COMPAT_FIXTURES. The other Python steps call `load()`, which reads
$KIDO_COMPAT_FIXTURES when set (compat/run runs this step first) and otherwise creates a fresh set
in memory, so that each step can also be run on its own.

Usage: fixtures.py [OUT_JSON]
Env:   KIDO_BASE, KIDO_BOOTSTRAP_CREDENTIALS (set by compat/run), KIDO_COMPAT_FIXTURES,
       COMPAT_RP_PORT  port of the (never started) relying party in the redirect URIs (default 8976)
"""

from __future__ import annotations

import json
import os
import secrets
import string
import sys
from pathlib import Path
from typing import Any

import requests

from harness import CheckError, Suite, check, describe_response, eq, expect_json, fail, show

MANAGEMENT_API_INDICATOR = "https://default.logto.app/api"
API_RESOURCE = "https://api.example.com"
API_SCOPE = "read:foo"
TIMEOUT = 30


def base_url() -> str:
    base = os.environ.get("KIDO_BASE", "").rstrip("/")
    check(base, "KIDO_BASE is not set (compat/run sets it)")
    return base


def rp_urls() -> tuple[str, str]:
    port = int(os.environ.get("COMPAT_RP_PORT", "8976"))
    return f"http://127.0.0.1:{port}/callback", f"http://127.0.0.1:{port}/signed-out"


def read_bootstrap() -> dict[str, Any]:
    path = os.environ.get("KIDO_BOOTSTRAP_CREDENTIALS")
    check(path, "KIDO_BOOTSTRAP_CREDENTIALS is not set (compat/run sets it)")
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as error:
        fail(f"cannot read {path}: {error}")
    for key in ("clientId", "clientSecret"):
        check(isinstance(data.get(key), str) and data[key], f"bootstrap {key} missing in {path}")
    return data


def _no_sequences(text: str) -> bool:
    """True when text has no run of 3 equal or consecutive (ascending/descending) characters, so
    it passes Logto's default password policy (rejects.repetitionAndSequence)."""
    for a, b, c in zip(text, text[1:], text[2:]):
        x, y, z = ord(a), ord(b), ord(c)
        if x == y == z or (y - x == z - y and abs(y - x) == 1):
            return False
    return True


def random_password() -> str:
    """16 random characters with upper, lower, digit and symbol; no repetitions or sequences."""
    alphabet = string.ascii_letters + string.digits + "!#%*+-=?@^_~"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(16))
        if (
            any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
            and any(c.isdigit() for c in candidate)
            and any(not c.isalnum() for c in candidate)
            and _no_sequences(candidate)
        ):
            return candidate


def random_username(prefix: str) -> str:
    """Logto usernames match ^[A-Z_a-z]\\w*$."""
    return f"{prefix}_{secrets.token_hex(5)}"


class ManagementApi:
    """Minimal Management API client over requests (Bearer token from client_credentials)."""

    def __init__(self, base: str, client_id: str, client_secret: str) -> None:
        self.base = base
        self.client_id = client_id
        self.client_secret = client_secret
        self.http = requests.Session()
        self._token: str | None = None

    @classmethod
    def from_env(cls) -> "ManagementApi":
        bootstrap = read_bootstrap()
        return cls(base_url(), bootstrap["clientId"], bootstrap["clientSecret"])

    def token(self) -> str:
        if self._token is None:
            # Same request as @logto/api's ClientCredentials (client_secret_post).
            response = self.http.post(
                f"{self.base}/oidc/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "resource": MANAGEMENT_API_INDICATOR,
                    "scope": "all",
                },
                timeout=TIMEOUT,
            )
            check(response.status_code == 200, f"Management API token: {describe_response(response)}")
            body = expect_json(response, "Management API token")
            check(isinstance(body.get("access_token"), str), f"no access_token in {show(body)}")
            self._token = body["access_token"]
        return self._token

    def call(
        self,
        method: str,
        path: str,
        expect: int | tuple[int, ...],
        body: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Calls /api<path>; fails unless the status is in `expect`. Returns the JSON body, or
        None for an empty body."""
        allowed = expect if isinstance(expect, tuple) else (expect,)
        response = self.http.request(
            method,
            f"{self.base}{path}",
            json=body,
            params=params,
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=TIMEOUT,
        )
        what = f"{method} {path}"
        if response.status_code not in allowed:
            fail(f"{what}: expected HTTP {' or '.join(map(str, allowed))}, got {describe_response(response)}")
        if not response.content:
            return None
        return expect_json(response, what)

    def get_user(self, user_id: str) -> dict[str, Any]:
        return self.call("GET", f"/api/users/{user_id}", 200)

    def create(self, path: str, body: dict[str, Any], expect: int = 201) -> dict[str, Any]:
        """POST path; expects HTTP `expect` and a JSON object with an `id`, which it returns."""
        data = self.call("POST", path, expect, body)
        check(isinstance(data, dict) and data.get("id"), f"POST {path}: no id in {show(data)}")
        return data

    def delete(self, path: str) -> None:
        """DELETE path; expects 204."""
        self.call("DELETE", path, 204)


def create(suite: Suite | None = None) -> dict[str, Any]:
    """Creates the fixtures and returns them as a JSON-able dict."""
    suite = suite or Suite("fixtures")
    base = base_url()
    mapi = ManagementApi.from_env()
    suffix = secrets.token_hex(4)
    redirect_uri, post_logout_redirect_uri = rp_urls()

    suite.step("Management API token (client_credentials, client_secret_post)", mapi.token)

    def create_app(kind: str) -> dict[str, Any]:
        data = mapi.call(
            "POST",
            "/api/applications",
            200,  # CreateApplication answers 200 in Logto
            {
                "name": f"compat-{kind.lower()}-{suffix}",
                "type": kind,
                "oidcClientMetadata": {
                    "redirectUris": [redirect_uri],
                    "postLogoutRedirectUris": [post_logout_redirect_uri],
                },
            },
        )
        check(isinstance(data, dict) and data.get("id"), f"application id missing: {show(data)}")
        eq(data.get("type"), kind, "application type")
        metadata = data.get("oidcClientMetadata") or {}
        eq(metadata.get("redirectUris"), [redirect_uri], "oidcClientMetadata.redirectUris")
        eq(
            metadata.get("postLogoutRedirectUris"),
            [post_logout_redirect_uri],
            "oidcClientMetadata.postLogoutRedirectUris",
        )
        return data

    traditional = suite.step("create Traditional app (POST /api/applications → 200)", lambda: create_app("Traditional"))

    def read_secret() -> str:
        rows = mapi.call("GET", f"/api/applications/{traditional['id']}/secrets", 200)
        check(isinstance(rows, list) and rows, f"secrets must be a non-empty array, got {show(rows)}")
        value = rows[0].get("value")
        check(isinstance(value, str) and value, f"first secret has no value: {show(rows[0])}")
        return value

    secret = suite.step("read its secret (GET /api/applications/{id}/secrets → 200)", read_secret)
    spa = suite.step("create SPA app (POST /api/applications → 200)", lambda: create_app("SPA"))

    username = random_username("compat_user")
    password = random_password()

    def create_user() -> dict[str, Any]:
        data = mapi.call("POST", "/api/users", 200, {"username": username, "password": password})
        check(isinstance(data, dict) and data.get("id"), f"user id missing: {show(data)}")
        eq(data.get("username"), username, "user username")
        check("passwordEncrypted" not in data, "POST /api/users leaks passwordEncrypted")
        return data

    user = suite.step("create user (POST /api/users {username, password} → 200)", create_user)

    def create_resource() -> dict[str, Any]:
        response = mapi.http.post(
            f"{base}/api/resources",
            json={"name": f"compat api {suffix}", "indicator": API_RESOURCE},
            headers={"Authorization": f"Bearer {mapi.token()}"},
            timeout=TIMEOUT,
        )
        if response.status_code == 201:
            data = expect_json(response, "POST /api/resources")
            eq(data.get("indicator"), API_RESOURCE, "resource indicator")
            return data
        # Only when run twice against the same server (standalone use): reuse the resource.
        if 400 <= response.status_code < 500:
            listed = mapi.call("GET", "/api/resources", 200)
            for entry in listed or []:
                if entry.get("indicator") == API_RESOURCE:
                    print(f"note fixtures: reusing existing resource {API_RESOURCE} ({describe_response(response)})")
                    return entry
        fail(f"POST /api/resources: expected HTTP 201, got {describe_response(response)}")

    resource = suite.step(f"create API resource {API_RESOURCE} (POST /api/resources → 201)", create_resource)

    def create_scope() -> dict[str, Any]:
        response = mapi.http.post(
            f"{base}/api/resources/{resource['id']}/scopes",
            json={"name": API_SCOPE, "description": "compat suite scope"},
            headers={"Authorization": f"Bearer {mapi.token()}"},
            timeout=TIMEOUT,
        )
        if response.status_code == 201:
            data = expect_json(response, "POST /api/resources/{id}/scopes")
            eq(data.get("name"), API_SCOPE, "scope name")
            return data
        if 400 <= response.status_code < 500:
            listed = mapi.call("GET", f"/api/resources/{resource['id']}/scopes", 200)
            for entry in listed or []:
                if entry.get("name") == API_SCOPE:
                    print(f"note fixtures: reusing existing scope {API_SCOPE}")
                    return entry
        fail(f"POST /api/resources/{{id}}/scopes: expected HTTP 201, got {describe_response(response)}")

    scope = suite.step(f"create scope {API_SCOPE} (POST /api/resources/{{id}}/scopes → 201)", create_scope)

    def create_role() -> dict[str, Any]:
        data = mapi.call(
            "POST",
            "/api/roles",
            200,  # CreateRole answers 200 in Logto
            {"name": f"compat-user-role-{suffix}", "description": "compat suite user role", "type": "User"},
        )
        check(isinstance(data, dict) and data.get("id"), f"role id missing: {show(data)}")
        eq(data.get("type"), "User", "role type")
        return data

    role = suite.step("create User role (POST /api/roles → 200)", create_role)

    def grant_scope() -> None:
        data = mapi.call("POST", f"/api/roles/{role['id']}/scopes", (200, 201), {"scopeIds": [scope["id"]]})
        if isinstance(data, list):
            check(
                any(entry.get("id") == scope["id"] for entry in data),
                f"role scopes response does not list {scope['id']}: {show(data)}",
            )
        listed = mapi.call("GET", f"/api/roles/{role['id']}/scopes", 200)
        check(
            any(entry.get("id") == scope["id"] for entry in listed or []),
            f"GET /api/roles/{{id}}/scopes does not list {scope['id']}: {show(listed)}",
        )

    suite.step("grant read:foo to the role (POST /api/roles/{id}/scopes)", grant_scope)

    def assign_role() -> None:
        mapi.call("POST", f"/api/users/{user['id']}/roles", 201, {"roleIds": [role["id"]]})
        listed = mapi.call("GET", f"/api/users/{user['id']}/roles", 200)
        check(
            any(entry.get("id") == role["id"] for entry in listed or []),
            f"GET /api/users/{{id}}/roles does not list {role['id']}: {show(listed)}",
        )

    suite.step("assign the role to the user (POST /api/users/{id}/roles → 201)", assign_role)

    return {
        "base": base,
        "issuer": f"{base}/oidc",
        "redirectUri": redirect_uri,
        "postLogoutRedirectUri": post_logout_redirect_uri,
        "traditional": {"id": traditional["id"], "secret": secret},
        "spa": {"id": spa["id"]},
        "user": {"id": user["id"], "username": username, "password": password},
        "resource": {"id": resource["id"], "indicator": API_RESOURCE},
        "scope": {"id": scope["id"], "name": API_SCOPE},
        "role": {"id": role["id"]},
        "suffix": suffix,
    }


def load() -> dict[str, Any]:
    """The fixtures of this run: $KIDO_COMPAT_FIXTURES when set, otherwise freshly created."""
    path = os.environ.get("KIDO_COMPAT_FIXTURES")
    if path:
        try:
            data = json.loads(Path(path).read_text("utf-8"))
        except (OSError, ValueError) as error:
            raise CheckError(f"cannot read fixtures {path} (did the fixtures step fail?): {error}") from None
        check(data.get("base") == base_url(), f"fixtures {path} were made for {data.get('base')}, not {base_url()}")
        return data
    print("note: KIDO_COMPAT_FIXTURES not set; creating fixtures for this step")
    return create(Suite("fixtures"))


def main(suite: Suite) -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("KIDO_COMPAT_FIXTURES")
    check(out, "usage: fixtures.py OUT_JSON (or set KIDO_COMPAT_FIXTURES)")
    data = create(suite)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Holds a client secret and a password: owner-only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
    suite.current = "write fixtures"
    print(f"fixtures: wrote {path} (Traditional {data['traditional']['id']}, SPA {data['spa']['id']}, "
          f"user {data['user']['username']} {data['user']['id']})")


if __name__ == "__main__":
    Suite("fixtures").run(main)
