#!/usr/bin/env python3
"""compat step: second factors with real clients — TOTP codes from PyPI `pyotp`, the official
Python SDK (`logto`) as the app, the Experience API walked by a requests.Session.

  Setup (Management API): a fresh user; the sign-in experience's MFA set to factors [Totp,
  BackupCode], policy PromptAtSignInAndSignUpMandatory (the previous `mfa` is restored at the end,
  the user deleted).
  Flow 1 (bind): signIn → /sign-in → password → identification → submit answers 422
    user.missing_mfa {availableFactors: [Totp]} → /verification/totp/secret → pyotp.TOTP(secret)
    code → /totp/verify {code, verificationId} → POST /profile/mfa {Totp} → submit answers 422
    session.mfa.backup_code_required → /backup-code/generate (10 codes) → POST /profile/mfa
    {BackupCode} → submit → callback → handleSignInCallback → the ID token's sub is the user;
    the Management API lists the user's Totp and BackupCode.
  Flow 2 (prove TOTP): a fresh SDK and cookie jar → submit answers 403
    session.mfa.require_mfa_verification → the code pyotp gives for the next time step →
    /totp/verify {code} → submit → callback → handleSignInCallback; the same code again in a
    third sign-in is refused (400 session.mfa.invalid_totp_code).
  Flow 3 (backup code): a backup code proves the factor once; the same code again is refused
    (400 session.mfa.invalid_backup_code); remainCodes is 9.

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
from harness import Suite, check, eq, expect_json, expect_status, show
from test_logto_sdk import DictStorage

API = "/api/experience"


def post(session: requests.Session, base: str, path: str, body: Any = None) -> requests.Response:
    return session.post(f"{base}{API}{path}", json=body, timeout=walk.TIMEOUT)


def expect_error(response: requests.Response, status: int, code: str, what: str) -> dict[str, Any]:
    expect_status(response, status, what)
    body = expect_json(response, what)
    eq(body.get("code"), code, f"{what}: error code")
    return body


def identified(session: requests.Session, base: str, auth_url: str, username: str, password: str) -> None:
    """Opens the authorization URL and identifies the user by password (not submitted)."""
    walk.open_authorization(session, auth_url, "/sign-in")
    expect_status(session.put(f"{base}{API}", json={"interactionEvent": "SignIn"}, timeout=walk.TIMEOUT), 204, "PUT")
    body = {"identifier": {"type": "username", "value": username}, "password": password}
    response = post(session, base, "/verification/password", body)
    expect_status(response, 200, "POST /verification/password")
    verification_id = expect_json(response, "password")["verificationId"]
    expect_status(post(session, base, "/identification", {"verificationId": verification_id}), 204, "identification")


def verification_id(response: requests.Response, what: str) -> str:
    expect_status(response, 200, what)
    body = expect_json(response, what)
    check(isinstance(body.get("verificationId"), str), f"{what}: no verificationId in {show(body)}")
    return body["verificationId"]


def submit_to_callback(session: requests.Session, base: str, redirect_uri: str) -> str:
    response = post(session, base, "/submit")
    expect_status(response, 200, "POST /submit")
    redirect_to = expect_json(response, "submit")["redirectTo"]
    return walk.follow_to_redirect_uri(session, requests.compat.urljoin(base + "/", redirect_to), redirect_uri)


async def main(suite: Suite) -> None:
    fx = fixtures.load()
    base = fx["base"]
    mapi = fixtures.ManagementApi.from_env()
    username = fixtures.random_username("mfa")
    password = fixtures.random_password()
    user = suite.step(
        "Management API: a fresh user",
        lambda: mapi.create("/api/users", {"username": username, "password": password}, expect=200),
    )
    previous_mfa = mapi.call("GET", "/api/sign-in-exp", 200)["mfa"]
    mfa = {"factors": ["Totp", "BackupCode"], "policy": "PromptAtSignInAndSignUpMandatory"}
    suite.step("Management API: MFA required (Totp + BackupCode)", lambda: mapi.call("PATCH", "/api/sign-in-exp", 200, {"mfa": mfa}))

    def client() -> LogtoClient:
        config = LogtoConfig(endpoint=base, appId=fx["traditional"]["id"], appSecret=fx["traditional"]["secret"])
        return LogtoClient(config, storage=DictStorage())

    try:
        # Flow 1: bind TOTP (pyotp) and backup codes at sign-in.
        sdk = client()
        auth_url = await sdk.signIn(fx["redirectUri"])
        browser = walk.new_browser()
        state: dict[str, Any] = {}

        def bind() -> str:
            identified(browser, base, auth_url, username, password)
            body = expect_error(post(browser, base, "/submit"), 422, "user.missing_mfa", "submit without a factor")
            eq(body.get("data"), {"availableFactors": ["Totp"]}, "missing_mfa data")
            response = post(browser, base, "/verification/totp/secret")
            secret_id = verification_id(response, "POST /verification/totp/secret")
            secret = response.json()["secret"]
            check(response.json()["secretQrCode"].startswith("data:image/"), "secretQrCode is not an image data URI")
            totp = pyotp.TOTP(secret)
            state["totp"] = totp
            state["bound_code"] = totp.now()
            verification_id(
                post(browser, base, "/verification/totp/verify", {"code": state["bound_code"], "verificationId": secret_id}),
                "POST /verification/totp/verify (new secret)",
            )
            expect_status(post(browser, base, "/profile/mfa", {"type": "Totp", "verificationId": secret_id}), 204, "bind Totp")
            expect_error(post(browser, base, "/submit"), 422, "session.mfa.backup_code_required", "submit without codes")
            response = post(browser, base, "/verification/backup-code/generate")
            codes_id = verification_id(response, "POST /verification/backup-code/generate")
            codes = response.json()["codes"]
            eq(len(codes), 10, "backup code count")
            state["codes"] = codes
            expect_status(
                post(browser, base, "/profile/mfa", {"type": "BackupCode", "verificationId": codes_id}), 204, "bind BackupCode"
            )
            return submit_to_callback(browser, base, fx["redirectUri"])

        callback = suite.step("sign-in binds TOTP (pyotp code) and backup codes", bind)
        await suite.astep("handleSignInCallback after binding", lambda: sdk.handleSignInCallback(callback))
        suite.step("ID token sub is the user", lambda: eq(sdk.getIdTokenClaims().sub, user["id"], "sub"))

        def listed() -> None:
            factors = mapi.call("GET", f"/api/users/{user['id']}/mfa-verifications", 200)
            eq(sorted(f["type"] for f in factors), ["BackupCode", "Totp"], "bound factors")

        suite.step("Management API lists Totp and BackupCode", listed)

        # Flow 2: the next sign-in proves TOTP with the code of the next time step.
        sdk = client()
        auth_url = await sdk.signIn(fx["redirectUri"])
        browser = walk.new_browser()

        def prove_totp() -> str:
            identified(browser, base, auth_url, username, password)
            body = expect_error(post(browser, base, "/submit"), 403, "session.mfa.require_mfa_verification", "submit")
            eq(body["data"]["availableFactors"], ["Totp", "BackupCode"], "availableFactors")
            replay = post(browser, base, "/verification/totp/verify", {"code": state["bound_code"]})
            expect_error(replay, 400, "session.mfa.invalid_totp_code", "the binding's code again")
            state["next_code"] = state["totp"].at(time.time() + 30)
            verification_id(post(browser, base, "/verification/totp/verify", {"code": state["next_code"]}), "totp verify")
            return submit_to_callback(browser, base, fx["redirectUri"])

        callback = suite.step("next sign-in: 403 until a pyotp code is verified", prove_totp)
        await suite.astep("handleSignInCallback after TOTP", lambda: sdk.handleSignInCallback(callback))

        # Flow 3: a backup code, once.
        sdk = client()
        auth_url = await sdk.signIn(fx["redirectUri"])
        browser = walk.new_browser()

        def prove_backup_code() -> str:
            identified(browser, base, auth_url, username, password)
            replay = post(browser, base, "/verification/totp/verify", {"code": state["next_code"]})
            expect_error(replay, 400, "session.mfa.invalid_totp_code", "a used TOTP code")
            code = state["codes"][0]
            verification_id(post(browser, base, "/verification/backup-code/verify", {"code": code}), "backup code")
            return submit_to_callback(browser, base, fx["redirectUri"])

        callback = suite.step("a backup code proves the second factor", prove_backup_code)
        await suite.astep("handleSignInCallback after a backup code", lambda: sdk.handleSignInCallback(callback))

        def used_up() -> None:
            browser = walk.new_browser()
            identified(browser, base, auth_url, username, password)
            again = post(browser, base, "/verification/backup-code/verify", {"code": state["codes"][0]})
            expect_error(again, 400, "session.mfa.invalid_backup_code", "a used backup code")
            factors = mapi.call("GET", f"/api/users/{user['id']}/mfa-verifications", 200)
            eq([f.get("remainCodes") for f in factors if f["type"] == "BackupCode"], [9], "remainCodes")

        suite.step("a used backup code is refused; 9 remain", used_up)
    finally:
        mapi.call("PATCH", "/api/sign-in-exp", 200, {"mfa": previous_mfa})
        mapi.call("DELETE", f"/api/users/{user['id']}", 204)


if __name__ == "__main__":
    Suite("mfa").run(main)
