#!/usr/bin/env python3
"""compat step: a user adds TOTP and backup codes through the Account API, exactly as seed 001
lists, with real clients — the official Python SDK (`logto`) as the app, TOTP codes from PyPI
`pyotp`, the Experience API walked by a requests.Session.

  Setup (Management API): a fresh user; the account center enabled with `mfa: Edit`; after the
  first sign-in the sign-in experience's MFA set to factors [Totp, BackupCode], policy
  UserControlled (both restored at the end, the user deleted).
  Flow 1: the SDK signs the user in (scopes identities) → getAccessToken() (opaque, openid) →
    POST /api/verifications/password → POST /api/my-account/mfa-verifications/totp-secret/generate
    → POST /api/my-account/mfa-verifications {Totp, secret, code: pyotp} → …/backup-codes/generate
    → POST …/mfa-verifications {BackupCode, codes} → GET …/backup-codes (the same ten, unused).
  Flow 2: a fresh SDK signs in again: submit answers 403 session.mfa.require_mfa_verification
    until the pyotp code of the next time step is verified; the callback completes.

Env: KIDO_BASE, KIDO_BOOTSTRAP_CREDENTIALS, KIDO_COMPAT_FIXTURES (see fixtures.py).
"""

from __future__ import annotations

import time
from typing import Any

import pyotp
import requests
from logto import LogtoClient, LogtoConfig

import fixtures
import walk
from harness import Suite, check, eq, expect_json, expect_status
from test_logto_sdk import DictStorage
from test_mfa import expect_error, identified, post, submit_to_callback, verification_id


def account(base: str, token: str, method: str, path: str, body: Any = None, record: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if record:
        headers["logto-verification-id"] = record
    return requests.request(method, f"{base}{path}", json=body, headers=headers, timeout=walk.TIMEOUT)


async def main(suite: Suite) -> None:
    fx = fixtures.load()
    base = fx["base"]
    mapi = fixtures.ManagementApi.from_env()
    username = fixtures.random_username("acct")
    password = fixtures.random_password()
    user = suite.step(
        "Management API: a fresh user",
        lambda: mapi.create("/api/users", {"username": username, "password": password}, expect=200),
    )
    previous_mfa = mapi.call("GET", "/api/sign-in-exp", 200)["mfa"]
    previous_center = mapi.call("GET", "/api/account-center", 200)
    suite.step(
        "Management API: account center on, mfa Edit",
        lambda: mapi.call("PATCH", "/api/account-center", 200, {"enabled": True, "fields": {"mfa": "Edit"}}),
    )

    def client() -> LogtoClient:
        config = LogtoConfig(
            endpoint=base,
            appId=fx["traditional"]["id"],
            appSecret=fx["traditional"]["secret"],
            scopes=["identities"],
        )
        return LogtoClient(config, storage=DictStorage())

    try:
        sdk = client()
        auth_url = await sdk.signIn(fx["redirectUri"])
        browser = walk.new_browser()

        def sign_in() -> str:
            identified(browser, base, auth_url, username, password)
            return submit_to_callback(browser, base, fx["redirectUri"])

        callback = suite.step("the SDK signs the user in", sign_in)
        await suite.astep("handleSignInCallback", lambda: sdk.handleSignInCallback(callback))
        token = await suite.astep("getAccessToken (opaque, openid)", lambda: sdk.getAccessToken())
        check(isinstance(token, str) and token.count(".") == 0, "an opaque access token")
        # Enabled after the first sign-in: a user-controlled policy prompts a user without a
        # factor to bind one at sign-in, and this user binds through the Account API instead.
        mfa = {"factors": ["Totp", "BackupCode"], "policy": "UserControlled"}
        suite.step("Management API: MFA factors Totp + BackupCode", lambda: mapi.call("PATCH", "/api/sign-in-exp", 200, {"mfa": mfa}))
        state: dict[str, Any] = {}

        def add_factors() -> None:
            response = account(base, token, "POST", "/api/verifications/password", {"password": password})
            expect_status(response, 201, "POST /api/verifications/password")
            record = expect_json(response, "password record")["verificationRecordId"]
            response = account(base, token, "POST", "/api/my-account/mfa-verifications/totp-secret/generate")
            expect_status(response, 200, "totp-secret/generate")
            secret = expect_json(response, "secret")["secret"]
            totp = pyotp.TOTP(secret)
            state["totp"] = totp
            body = {"type": "Totp", "secret": secret, "code": totp.now()}
            without = account(base, token, "POST", "/api/my-account/mfa-verifications", body)
            expect_error(without, 401, "verification_record.permission_denied", "add TOTP without a record")
            expect_status(account(base, token, "POST", "/api/my-account/mfa-verifications", body, record), 204, "add TOTP")
            response = account(base, token, "POST", "/api/my-account/mfa-verifications/backup-codes/generate")
            expect_status(response, 200, "backup-codes/generate")
            codes = expect_json(response, "codes")["codes"]
            eq(len(codes), 10, "backup code count")
            body = {"type": "BackupCode", "codes": codes}
            expect_status(account(base, token, "POST", "/api/my-account/mfa-verifications", body, record), 204, "add codes")
            response = account(base, token, "GET", "/api/my-account/mfa-verifications/backup-codes", record=record)
            expect_status(response, 200, "GET backup-codes")
            read = expect_json(response, "backup codes")["codes"]
            eq([c["code"] for c in read], codes, "the codes read back")
            check(all(c.get("usedAt") is None for c in read), "no code used yet")
            response = account(base, token, "GET", "/api/my-account/mfa-verifications")
            expect_status(response, 200, "GET mfa-verifications")
            eq(sorted(f["type"] for f in expect_json(response, "factors")), ["BackupCode", "Totp"], "factors")

        suite.step("Account API: TOTP (pyotp code) and backup codes added and read back", add_factors)

        sdk = client()
        auth_url = await sdk.signIn(fx["redirectUri"])
        browser = walk.new_browser()

        def prove_totp() -> str:
            identified(browser, base, auth_url, username, password)
            expect_error(post(browser, base, "/submit"), 403, "session.mfa.require_mfa_verification", "submit")
            code = state["totp"].at(time.time() + 30)
            verification_id(post(browser, base, "/verification/totp/verify", {"code": code}), "totp verify")
            return submit_to_callback(browser, base, fx["redirectUri"])

        callback = suite.step("the next sign-in asks for and takes a TOTP code", prove_totp)
        await suite.astep("handleSignInCallback after TOTP", lambda: sdk.handleSignInCallback(callback))
        suite.step("ID token sub is the user", lambda: eq(sdk.getIdTokenClaims().sub, user["id"], "sub"))
    finally:
        mapi.call("PATCH", "/api/sign-in-exp", 200, {"mfa": previous_mfa})
        restore = {k: previous_center[k] for k in ("enabled", "fields", "webauthnRelatedOrigins")}
        mapi.call("PATCH", "/api/account-center", 200, restore)
        mapi.call("DELETE", f"/api/users/{user['id']}", 204)


if __name__ == "__main__":
    Suite("account").run(main)
