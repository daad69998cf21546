#!/usr/bin/env python3
"""compat step: passkeys as a second factor with a software authenticator nobody here wrote
(PyPI `soft-webauthn` 0.1.4 on `fido2` 1.x, in compat/.venv-webauthn), through the Experience API.

  Setup (Management API): a fresh user; the sign-in experience's MFA set to factors [WebAuthn],
  policy Mandatory (the previous `mfa` is restored at the end, the user deleted).
  Flow 1 (bind): /oidc/auth → /sign-in → password → identification → submit answers 422
    user.missing_mfa {availableFactors: [WebAuthn]} → /verification/web-authn/registration →
    SoftWebauthnDevice.create(registrationOptions, origin) → /registration/verify → POST
    /profile/mfa {WebAuthn} → submit → the redirect_uri with a code; the Management API lists the
    passkey with this client's User-Agent.
  Flow 2 (prove): a fresh cookie jar → submit answers 403 session.mfa.require_mfa_verification
    {availableFactors: [WebAuthn]} → /web-authn/authentication → the package's assertion as it
    makes it (user present, not verified) is refused (400 session.mfa.webauthn_verification_failed:
    the options ask for user verification) → a new ceremony, answered by the same device with
    the UV flag set (the package has no switch for it: the authenticator data is rebuilt with UV
    and signed with the device's own key) → submit → the redirect_uri with a code; the spent
    challenge cannot be answered again.
  Flow 3 (passkey sign-in, the sign-in experience's `passkeySignIn` turned on and restored):
    the anonymous preflight ceremony begun before `PUT /api/experience` (no credentials listed,
    user verification preferred) → the device's user-verified assertion with no verificationId
    → identification → submit gives a code although MFA is mandatory (the passkey was the second
    factor); then the identifier ceremony (the device's credential listed) → verify → a replay
    refused → identification → submit → a code.

Env: KIDO_BASE, KIDO_BOOTSTRAP_CREDENTIALS, KIDO_COMPAT_FIXTURES (see fixtures.py).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from struct import pack
from typing import Any
from urllib.parse import urlencode, urljoin

import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from soft_webauthn import SoftWebauthnDevice

import fixtures
import walk
from harness import Suite, check, eq, expect_json, expect_status, show

API = "/api/experience"
FLAG_UP, FLAG_UV = 0x01, 0x04


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def post(session: requests.Session, base: str, path: str, body: Any = None) -> requests.Response:
    return session.post(f"{base}{API}{path}", json=body, timeout=walk.TIMEOUT)


def expect_error(response: requests.Response, status: int, code: str, what: str) -> dict[str, Any]:
    expect_status(response, status, what)
    body = expect_json(response, what)
    eq(body.get("code"), code, f"{what}: error code")
    return body


def creation_options(options: dict[str, Any]) -> dict[str, Any]:
    """registrationOptions (JSON, base64url) as navigator.credentials.create takes them (bytes)."""
    public_key = dict(options)
    public_key["challenge"] = unb64url(options["challenge"])
    public_key["user"] = dict(options["user"], id=unb64url(options["user"]["id"]))
    return {"publicKey": public_key}


def request_options(options: dict[str, Any]) -> dict[str, Any]:
    return {"publicKey": dict(options, challenge=unb64url(options["challenge"]))}


def registration_payload(credential: dict[str, Any]) -> dict[str, Any]:
    response = credential["response"]
    return {
        "id": credential["id"].decode("ascii"),
        "rawId": b64url(credential["rawId"]),
        "type": "WebAuthn",
        "response": {
            "clientDataJSON": b64url(response["clientDataJSON"]),
            "attestationObject": b64url(response["attestationObject"]),
        },
    }


def authentication_payload(assertion: dict[str, Any]) -> dict[str, Any]:
    response = assertion["response"]
    return {
        "id": assertion["id"].decode("ascii"),
        "rawId": b64url(assertion["rawId"]),
        "type": "WebAuthn",
        "response": {
            "authenticatorData": b64url(response["authenticatorData"]),
            "clientDataJSON": b64url(response["clientDataJSON"]),
            "signature": b64url(response["signature"]),
            "userHandle": b64url(response["userHandle"]),
        },
    }


def with_user_verified(device: SoftWebauthnDevice, assertion: dict[str, Any]) -> dict[str, Any]:
    """The device's assertion as an authenticator that verified its user (a PIN, a fingerprint)
    makes it: the UV flag set in the authenticator data, signed again with the device's key."""
    response = dict(assertion["response"])
    data = bytearray(response["authenticatorData"])
    data[32] |= FLAG_UP | FLAG_UV
    client_data_hash = hashlib.sha256(response["clientDataJSON"]).digest()
    response["authenticatorData"] = bytes(data)
    response["signature"] = device.private_key.sign(bytes(data) + client_data_hash, ec.ECDSA(hashes.SHA256()))
    return dict(assertion, response=response)


def authorization_url(fx: dict[str, Any]) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = b64url(hashlib.sha256(verifier.encode("ascii")).digest())
    query = {
        "client_id": fx["traditional"]["id"],
        "redirect_uri": fx["redirectUri"],
        "response_type": "code",
        "scope": "openid profile",
        "state": secrets.token_urlsafe(12),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "prompt": "consent",
    }
    return f"{fx['base']}/oidc/auth?{urlencode(query)}"


def identified(session: requests.Session, fx: dict[str, Any], username: str, password: str) -> None:
    base = fx["base"]
    walk.open_authorization(session, authorization_url(fx), "/sign-in")
    expect_status(session.put(f"{base}{API}", json={"interactionEvent": "SignIn"}, timeout=walk.TIMEOUT), 204, "PUT")
    body = {"identifier": {"type": "username", "value": username}, "password": password}
    response = post(session, base, "/verification/password", body)
    expect_status(response, 200, "POST /verification/password")
    verification_id = expect_json(response, "password")["verificationId"]
    expect_status(post(session, base, "/identification", {"verificationId": verification_id}), 204, "identification")


def ceremony(session: requests.Session, base: str, kind: str) -> tuple[str, dict[str, Any]]:
    response = post(session, base, f"/verification/web-authn/{kind}")
    expect_status(response, 200, f"POST /verification/web-authn/{kind}")
    body = expect_json(response, kind)
    options = body.get("registrationOptions" if kind == "registration" else "authenticationOptions")
    check(isinstance(body.get("verificationId"), str) and isinstance(options, dict), f"{kind}: {show(body)}")
    return body["verificationId"], options


def answer(session: requests.Session, base: str, kind: str, verification_id: str, payload: dict) -> requests.Response:
    body = {"verificationId": verification_id, "payload": payload}
    return post(session, base, f"/verification/web-authn/{kind}/verify", body)


def submit_to_callback(session: requests.Session, fx: dict[str, Any]) -> str:
    base = fx["base"]
    response = post(session, base, "/submit")
    expect_status(response, 200, "POST /submit")
    redirect_to = expect_json(response, "submit")["redirectTo"]
    callback = walk.follow_to_redirect_uri(session, urljoin(base + "/", redirect_to), fx["redirectUri"])
    check(walk.callback_params(callback).get("code"), f"no code in the callback {callback}")
    return callback


def main(suite: Suite) -> None:
    fx = fixtures.load()
    base = fx["base"]
    origin = base.rstrip("/")
    mapi = fixtures.ManagementApi.from_env()
    username = fixtures.random_username("passkey")
    password = fixtures.random_password()
    user = suite.step(
        "Management API: a fresh user",
        lambda: mapi.create("/api/users", {"username": username, "password": password}, expect=200),
    )
    previous = mapi.call("GET", "/api/sign-in-exp", 200)
    previous_mfa, previous_passkey = previous["mfa"], previous["passkeySignIn"]
    mfa = {"factors": ["WebAuthn"], "policy": "Mandatory"}
    suite.step("Management API: MFA required (WebAuthn)", lambda: mapi.call("PATCH", "/api/sign-in-exp", 200, {"mfa": mfa}))
    device = SoftWebauthnDevice()
    try:

        def bind() -> None:
            browser = walk.new_browser()
            identified(browser, fx, username, password)
            body = expect_error(post(browser, base, "/submit"), 422, "user.missing_mfa", "submit without a factor")
            eq(body.get("data"), {"availableFactors": ["WebAuthn"]}, "missing_mfa data")
            verification_id, options = ceremony(browser, base, "registration")
            credential = device.create(creation_options(options), origin)
            response = answer(browser, base, "registration", verification_id, registration_payload(credential))
            expect_status(response, 200, "POST /verification/web-authn/registration/verify")
            bind_body = {"type": "WebAuthn", "verificationId": verification_id}
            expect_status(post(browser, base, "/profile/mfa", bind_body), 204, "POST /profile/mfa {WebAuthn}")
            submit_to_callback(browser, fx)

        suite.step("sign-in registers and binds a soft-webauthn passkey", bind)

        def listed() -> None:
            factors = mapi.call("GET", f"/api/users/{user['id']}/mfa-verifications", 200)
            eq([f["type"] for f in factors], ["WebAuthn"], "bound factors")
            eq(factors[0].get("agent"), walk.USER_AGENT, "the passkey's agent")

        suite.step("Management API lists the passkey with the client's User-Agent", listed)

        def prove() -> None:
            browser = walk.new_browser()
            identified(browser, fx, username, password)
            body = expect_error(post(browser, base, "/submit"), 403, "session.mfa.require_mfa_verification", "submit")
            eq(body["data"]["availableFactors"], ["WebAuthn"], "availableFactors")
            verification_id, options = ceremony(browser, base, "authentication")
            eq([c["id"] for c in options.get("allowCredentials", [])], [b64url(device.credential_id)], "allowCredentials")
            unverified = device.get(request_options(options), origin)
            response = answer(browser, base, "authentication", verification_id, authentication_payload(unverified))
            expect_error(response, 400, "session.mfa.webauthn_verification_failed", "an assertion without UV")
            verification_id, options = ceremony(browser, base, "authentication")
            assertion = with_user_verified(device, device.get(request_options(options), origin))
            payload = authentication_payload(assertion)
            expect_status(answer(browser, base, "authentication", verification_id, payload), 200, "assertion with UV")
            again = answer(browser, base, "authentication", verification_id, payload)
            expect_error(again, 400, "session.mfa.pending_info_not_found", "the spent challenge answered again")
            submit_to_callback(browser, fx)

        suite.step("next sign-in: 403 until the passkey's (user-verified) assertion", prove)

        mapi.call("PATCH", "/api/sign-in-exp", 200, {"passkeySignIn": {"enabled": True}})

        def passkey_alone() -> None:
            browser = walk.new_browser()
            walk.open_authorization(browser, authorization_url(fx), "/sign-in")
            response = post(browser, base, "/preflight/sign-in-passkey/authentication")
            expect_status(response, 200, "POST /preflight/sign-in-passkey/authentication")
            options = expect_json(response, "preflight")["authenticationOptions"]
            eq(options.get("allowCredentials"), [], "a discoverable-credential ceremony lists no credential")
            eq(options.get("userVerification"), "preferred", "preflight userVerification")
            put = browser.put(f"{base}{API}", json={"interactionEvent": "SignIn"}, timeout=walk.TIMEOUT)
            expect_status(put, 204, "PUT")
            payload = authentication_payload(with_user_verified(device, device.get(request_options(options), origin)))
            response = post(browser, base, "/verification/sign-in-passkey/authentication/verify", {"payload": payload})
            expect_status(response, 200, "verify the preflight ceremony")
            verification_id = expect_json(response, "verify")["verificationId"]
            expect_status(post(browser, base, "/identification", {"verificationId": verification_id}), 204, "identify")
            submit_to_callback(browser, fx)

        suite.step("passkey sign-in: the preflight ceremony alone signs in, MFA satisfied", passkey_alone)

        def passkey_by_identifier() -> None:
            browser = walk.new_browser()
            walk.open_authorization(browser, authorization_url(fx), "/sign-in")
            put = browser.put(f"{base}{API}", json={"interactionEvent": "SignIn"}, timeout=walk.TIMEOUT)
            expect_status(put, 204, "PUT")
            body = {"identifier": {"type": "username", "value": username}}
            response = post(browser, base, "/verification/sign-in-passkey/authentication", body)
            expect_status(response, 200, "POST /verification/sign-in-passkey/authentication")
            ceremony_body = expect_json(response, "identifier ceremony")
            options, verification_id = ceremony_body["authenticationOptions"], ceremony_body["verificationId"]
            eq([c["id"] for c in options.get("allowCredentials", [])], [b64url(device.credential_id)], "allowCredentials")
            payload = authentication_payload(with_user_verified(device, device.get(request_options(options), origin)))
            verify = {"verificationId": verification_id, "payload": payload}
            path = "/verification/sign-in-passkey/authentication/verify"
            expect_status(post(browser, base, path, verify), 200, "verify the identifier ceremony")
            expect_error(post(browser, base, path, verify), 404, "session.verification_session_not_found", "a replay")
            expect_status(post(browser, base, "/identification", {"verificationId": verification_id}), 204, "identify")
            submit_to_callback(browser, fx)

        suite.step("passkey sign-in: the identifier ceremony signs in; a replay is refused", passkey_by_identifier)
    finally:
        mapi.call("PATCH", "/api/sign-in-exp", 200, {"mfa": previous_mfa, "passkeySignIn": previous_passkey})
        mapi.call("DELETE", f"/api/users/{user['id']}", 204)


if __name__ == "__main__":
    Suite("webauthn").run(main)
