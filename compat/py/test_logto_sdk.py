#!/usr/bin/env python3
"""compat step 3: the official Python SDK (PyPI `logto` 0.2.1) against Kido.

real-clients.md §1 and §9 step 3 (organization parts come later):

  Flow 1 (sign-in), Traditional app, resources=[https://api.example.com], scopes=[email, read:foo]
  (+ the SDK defaults openid offline_access profile):
    signIn → GET /oidc/auth (303 to /sign-in, interaction cookies) → Experience API (Appendix B)
    → redirects to the redirect_uri (code, state, iss) → handleSignInCallback (client_secret_post,
    ES384 ID token verified by the SDK) → isAuthenticated, getIdTokenClaims (sub, iss, aud),
    fetchUserInfo (sub), getAccessToken/getAccessTokenClaims(resource) (refresh with resource →
    JWT AT, aud = resource, scope ∋ read:foo) → signOut(postLogoutRedirectUri) → GET it (200 HTML
    form: hidden xsrf, submit logout=yes, action /oidc/session/end/confirm) → POST → 303 to the
    post-logout URI.
  Flow 2 (sign-up), fresh SDK storage and fresh cookie jar, interactionMode="signUp":
    lands on /register → Register walk → callback → the new user exists (Management API).

Env: KIDO_BASE, KIDO_BOOTSTRAP_CREDENTIALS, KIDO_COMPAT_FIXTURES (see fixtures.py).
"""

from __future__ import annotations

from typing import Dict, Optional
from urllib.parse import parse_qs, urlsplit

import jwt
from logto import LogtoClient, LogtoConfig, Storage

import fixtures
import walk
from harness import Suite, check, eq, show


class DictStorage(Storage):
    """In-memory Storage (the SDK's MemoryStorage prints a warning on every access and its default
    instance is shared between clients)."""

    def __init__(self) -> None:
        self.data: Dict[str, Optional[str]] = {}

    def get(self, key: str) -> Optional[str]:
        return self.data.get(key)

    def set(self, key: str, value: Optional[str]) -> None:
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


def make_client(fx: dict) -> LogtoClient:
    return LogtoClient(
        LogtoConfig(
            endpoint=fx["base"],
            appId=fx["traditional"]["id"],
            appSecret=fx["traditional"]["secret"],
            resources=[fx["resource"]["indicator"]],
            scopes=["email", fx["scope"]["name"]],
        ),
        storage=DictStorage(),
    )


def check_auth_url(fx: dict, url: str, interaction_mode: Optional[str]) -> None:
    parts = urlsplit(url)
    eq(f"{parts.scheme}://{parts.netloc}{parts.path}", f"{fx['base']}/oidc/auth", "authorization_endpoint")
    query = parse_qs(parts.query)
    eq(query.get("client_id"), [fx["traditional"]["id"]], "client_id")
    eq(query.get("resource"), [fx["resource"]["indicator"]], "resource")
    eq(query.get("prompt"), ["consent"], "prompt")
    eq(query.get("code_challenge_method"), ["S256"], "code_challenge_method")
    scopes = (query.get("scope") or [""])[0].split()
    for expected in ("openid", "offline_access", "profile", "email", fx["scope"]["name"]):
        check(expected in scopes, f"scope {expected} missing from {scopes}")
    if interaction_mode:
        eq(query.get("interaction_mode"), [interaction_mode], "interaction_mode")


def check_callback(fx: dict, callback: str) -> None:
    params = walk.callback_params(callback)
    check("error" not in params, f"callback carries an error: {params}")
    check(params.get("code"), f"callback has no code: {callback}")
    check(params.get("state"), f"callback has no state: {callback}")
    eq(params.get("iss"), fx["issuer"], "callback iss (RFC 9207)")


async def main(suite: Suite) -> None:
    fx = fixtures.load()
    base = fx["base"]
    user = fx["user"]
    resource = fx["resource"]["indicator"]
    scope_name = fx["scope"]["name"]

    # ----------------------------------------------------------------------------------------
    # Flow 1: sign-in
    client = make_client(fx)
    browser = walk.new_browser()

    async def discovery() -> None:
        core = await client.getOidcCore()
        eq(core.metadata.issuer, fx["issuer"], "discovery issuer")
        check(core.metadata.end_session_endpoint, "discovery has no end_session_endpoint")

    await suite.astep("discovery parsed by the SDK (aiohttp, pydantic model)", discovery)

    sign_in_url = await suite.astep(
        "signIn() builds the authorization URL", lambda: client.signIn(fx["redirectUri"])
    )
    check_auth_url(fx, sign_in_url, None)

    callback = suite.step(
        "browser: /oidc/auth → 303 /sign-in → Experience API (SignIn, password) → redirect_uri",
        lambda: walk.sign_in(browser, base, sign_in_url, fx["redirectUri"], user["username"], user["password"]),
    )
    check_callback(fx, callback)

    await suite.astep(
        "handleSignInCallback (code exchange, client_secret_post, ID token verified)",
        lambda: client.handleSignInCallback(callback),
    )

    def id_token_claims() -> None:
        check(client.isAuthenticated(), "isAuthenticated() is false after the callback")
        claims = client.getIdTokenClaims()
        eq(claims.sub, user["id"], "ID token sub")
        eq(claims.iss, fx["issuer"], "ID token iss")
        eq(claims.aud, fx["traditional"]["id"], "ID token aud")
        header = jwt.get_unverified_header(client.getIdToken())
        check(header.get("kid"), f"ID token header has no kid: {header}")
        check(client.getRefreshToken(), "no refresh token stored (offline_access + prompt=consent)")

    suite.step("isAuthenticated, getIdTokenClaims (sub, iss, aud), refresh token stored", id_token_claims)

    async def user_info() -> None:
        info = await client.fetchUserInfo()
        eq(info.sub, user["id"], "userinfo sub")
        username = getattr(info, "username", None)
        if username is not None:
            eq(username, user["username"], "userinfo username")

    await suite.astep("fetchUserInfo (opaque AT from the code exchange, sub matches)", user_info)

    async def access_token() -> None:
        token = await client.getAccessToken(resource)
        check(token and token.count(".") == 2, f"resource access token is not a JWT: {show(token)}")
        header = jwt.get_unverified_header(token)
        eq(header.get("typ"), "at+jwt", "resource AT header typ")
        claims = await client.getAccessTokenClaims(resource)
        eq(claims.aud, resource, "resource AT aud")
        eq(claims.sub, user["id"], "resource AT sub")
        eq(claims.iss, fx["issuer"], "resource AT iss")
        check(scope_name in claims.scope.split(), f"resource AT scope {claims.scope!r} lacks {scope_name}")
        if claims.client_id is not None:
            eq(claims.client_id, fx["traditional"]["id"], "resource AT client_id")

    await suite.astep(
        "getAccessToken/getAccessTokenClaims(resource) (refresh + resource → JWT AT)", access_token
    )

    sign_out_url = await suite.astep(
        "signOut(postLogoutRedirectUri) builds the end-session URL",
        lambda: client.signOut(fx["postLogoutRedirectUri"]),
    )
    check(not client.isAuthenticated(), "still authenticated after signOut()")

    suite.step(
        "browser: end-session page (xsrf form) → POST /oidc/session/end/confirm → 303 post-logout URI",
        lambda: walk.sign_out(browser, sign_out_url, fx["postLogoutRedirectUri"]),
    )

    # ----------------------------------------------------------------------------------------
    # Flow 2: sign-up (fresh SDK storage, fresh cookie jar)
    client2 = make_client(fx)
    browser2 = walk.new_browser()
    new_username = fixtures.random_username("compat_sdk_signup")
    new_password = fixtures.random_password()

    sign_up_url = await suite.astep(
        'signIn(interactionMode="signUp") builds the authorization URL',
        lambda: client2.signIn(fx["redirectUri"], interactionMode="signUp"),
    )
    check_auth_url(fx, sign_up_url, "signUp")

    callback2 = suite.step(
        "browser: /oidc/auth → 303 /register → Experience API (Register, username + password) → redirect_uri",
        lambda: walk.register(browser2, base, sign_up_url, fx["redirectUri"], new_username, new_password),
    )
    check_callback(fx, callback2)

    await suite.astep("handleSignInCallback for the new user", lambda: client2.handleSignInCallback(callback2))

    def new_user_exists() -> None:
        claims = client2.getIdTokenClaims()
        check(claims.sub != user["id"], "sign-up signed in the fixture user instead of creating one")
        created = fixtures.ManagementApi.from_env().get_user(claims.sub)
        eq(created.get("username"), new_username, "new user's username (GET /api/users/{id})")

    suite.step("the registered user exists (GET /api/users/{sub} via the Management API)", new_user_exists)


if __name__ == "__main__":
    Suite("logto-sdk").run(main)
