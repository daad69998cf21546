#!/usr/bin/env python3
"""compat step 5: Authlib 1.9.8 (+ joserfc 1.8.0), a generic strict RP, against Kido.

real-clients.md §2 and §9 step 5. Every authorization code comes from a fresh cookie jar and the
Experience-API walk (walk.py).

Positive (Traditional app, client_secret_basic, PKCE S256, nonce, prompt=consent,
scope "openid offline_access profile email read:foo", resource https://api.example.com):
  * code → fetch_token; the ID token verified the way Authlib's OpenIDMixin.parse_id_token does
    (joserfc + JWKS + the discovery algorithm list, then CodeIDToken: iss, aud, exp, iat, nonce,
    azp, at_hash);
  * refresh with the original scope (Authlib sends it by default);
  * refresh with resource → JWT AT (typ at+jwt, aud = resource, scope ∋ read:foo, signature);
  * confidential client, no rotation before 70 % of the lifetime: the same refresh token works
    again and the response hands back the same one.
Negative:
  * the code reused → invalid_grant, and the grant is revoked: the refresh token and the opaque
    access token of the first exchange stop working (invalid_grant / userinfo 401);
  * wrong code_verifier → invalid_grant;
  * a different (unregistered) redirect_uri at the token endpoint → invalid_grant;
  * public SPA client (token_endpoint_auth_method none): refresh rotates, the rotated-out refresh
    token → invalid_grant;
  * no prompt=consent → no refresh_token in the token response;
  * refresh with a resource not requested at /authorize → invalid_target;
  * /oidc/auth with an unregistered redirect_uri → 400 HTML page, no Location (no redirect).

Env: KIDO_BASE, KIDO_BOOTSTRAP_CREDENTIALS, KIDO_COMPAT_FIXTURES (see fixtures.py).
"""

from __future__ import annotations

import secrets
from typing import Any, Callable
from urllib.parse import urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

import fixtures
import walk
from harness import Suite, check, describe_response, eq, expect_json, fail, show

SCOPE = "openid offline_access profile email read:foo"
TIMEOUT = 30


class Context:
    def __init__(self, fx: dict[str, Any]) -> None:
        self.fx = fx
        self.base = fx["base"]
        self.issuer = fx["issuer"]
        self.resource = fx["resource"]["indicator"]
        self.user = fx["user"]
        self.app_id = fx["traditional"]["id"]
        self.secret = fx["traditional"]["secret"]
        self.spa_id = fx["spa"]["id"]
        self.redirect_uri = fx["redirectUri"]
        self.metadata: dict[str, Any] = {}
        self.jwks: dict[str, Any] = {}

    # -- discovery -----------------------------------------------------------------------------

    def discover(self) -> None:
        url = f"{self.base}/oidc/.well-known/openid-configuration"
        response = requests.get(url, timeout=TIMEOUT)
        check(response.status_code == 200, f"discovery: {describe_response(response)}")
        self.metadata = expect_json(response, "discovery")
        eq(self.metadata.get("issuer"), self.issuer, "discovery issuer")
        for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
            check(isinstance(self.metadata.get(key), str), f"discovery {key} missing")
        algs = self.metadata.get("id_token_signing_alg_values_supported")
        check(isinstance(algs, list) and algs, f"id_token_signing_alg_values_supported must be a non-empty list: {algs}")
        check("S256" in (self.metadata.get("code_challenge_methods_supported") or []), "S256 not advertised")
        response = requests.get(self.metadata["jwks_uri"], timeout=TIMEOUT)
        check(response.status_code == 200, f"JWKS: {describe_response(response)}")
        self.jwks = expect_json(response, "JWKS")

    @property
    def token_endpoint(self) -> str:
        return self.metadata["token_endpoint"]

    # -- clients -------------------------------------------------------------------------------

    def confidential(self, scope: str = SCOPE) -> OAuth2Session:
        return OAuth2Session(
            self.app_id,
            self.secret,
            scope=scope,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
        )

    def public(self, scope: str = SCOPE) -> OAuth2Session:
        return OAuth2Session(
            self.spa_id,
            None,
            scope=scope,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="none",
        )

    def authorize(self, client: OAuth2Session, **params: Any) -> dict[str, str]:
        """Authorization URL + fresh cookie jar + Experience-API walk. Returns {code, state,
        verifier, nonce, callback}."""
        verifier = generate_token(48)
        nonce = params.pop("nonce", None) or secrets.token_urlsafe(16)
        url, state = client.create_authorization_url(
            self.metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **params
        )
        callback = walk.sign_in(
            walk.new_browser(), self.base, url, self.redirect_uri, self.user["username"], self.user["password"]
        )
        query = walk.callback_params(callback)
        check("error" not in query, f"authorization error: {query}")
        eq(query.get("state"), state, "callback state")
        eq(query.get("iss"), self.issuer, "callback iss")
        check(query.get("code"), f"callback without code: {callback}")
        return {"code": query["code"], "state": state, "verifier": verifier, "nonce": nonce, "callback": callback}

    def exchange(self, client: OAuth2Session, grant: dict[str, str], **overrides: Any) -> dict[str, Any]:
        params = {"code": grant["code"], "code_verifier": grant["verifier"]}
        params.update(overrides)
        return client.fetch_token(self.token_endpoint, grant_type="authorization_code", **params)

    # -- tokens --------------------------------------------------------------------------------

    def validate_id_token(
        self,
        id_token: str,
        nonce: str | None,
        access_token: str | None,
        client_id: str,
        nonce_optional: bool = False,
    ) -> Any:
        """As Authlib's OpenIDMixin.parse_id_token, with aud pinned to the client id too. With
        nonce=None the token must carry no nonce (the server must never invent one)."""
        key_set = KeySet.import_key_set(self.jwks)
        registry = JWSRegistry(
            algorithms=self.metadata["id_token_signing_alg_values_supported"], strict_check_header=False
        )
        token = jwt.decode(id_token, key_set, registry=registry)
        check(token.header.get("kid"), f"ID token header has no kid: {token.header}")
        params = {"client_id": client_id}
        if nonce is None:
            check("nonce" not in token.claims, f"ID token has a nonce none was sent for: {token.claims}")
        elif nonce_optional and "nonce" not in token.claims:
            pass
        else:
            params["nonce"] = nonce
        if access_token is not None:
            params["access_token"] = access_token
        claims = CodeIDToken(
            token.claims,
            token.header,
            {"iss": {"essential": True, "values": [self.issuer]}, "aud": {"essential": True, "value": client_id}},
            params,
        )
        claims.validate(leeway=120)
        check(isinstance(claims["aud"], str), f"ID token aud must be a string, got {show(claims['aud'])}")
        eq(claims["sub"], self.user["id"], "ID token sub")
        return claims

    def validate_resource_token(self, access_token: str, client_id: str) -> dict[str, Any]:
        check(access_token.count(".") == 2, f"resource access token is not a JWT: {show(access_token)}")
        registry = JWSRegistry(
            algorithms=self.metadata["id_token_signing_alg_values_supported"], strict_check_header=False
        )
        token = jwt.decode(access_token, KeySet.import_key_set(self.jwks), registry=registry)
        eq(token.header.get("typ"), "at+jwt", "resource AT header typ")
        check(token.header.get("kid"), "resource AT header has no kid")
        claims = token.claims
        eq(claims.get("aud"), self.resource, "resource AT aud (a string)")
        eq(claims.get("iss"), self.issuer, "resource AT iss")
        eq(claims.get("sub"), self.user["id"], "resource AT sub")
        eq(claims.get("client_id"), client_id, "resource AT client_id")
        check("read:foo" in str(claims.get("scope", "")).split(), f"resource AT scope lacks read:foo: {claims}")
        return claims

    def userinfo_status(self, access_token: str) -> requests.Response:
        return requests.get(
            self.metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT
        )


def expect_oauth_error(expected: str, what: str, call: Callable[[], Any]) -> None:
    try:
        result = call()
    except OAuthError as error:
        eq(error.error, expected, f"{what}: OAuth error code (description {error.description!r})")
        return
    fail(f"{what}: expected error {expected}, but the request succeeded: {show(dict(result) if result else result)}")


def main(suite: Suite) -> None:
    ctx = Context(fixtures.load())
    suite.step("discovery + JWKS", ctx.discover)

    # ------------------------------------------------------------------------------------------
    client = ctx.confidential()
    grant = suite.step(
        "code flow (client_secret_basic, PKCE S256, nonce, prompt=consent, resource) via the Experience API",
        lambda: ctx.authorize(client, prompt="consent", resource=ctx.resource),
    )
    token = suite.step("fetch_token (authorization_code)", lambda: dict(ctx.exchange(client, grant)))

    def check_token_response() -> None:
        check(isinstance(token.get("access_token"), str) and token["access_token"], "no access_token")
        eq(str(token.get("token_type", "")).lower(), "bearer", "token_type")
        check(isinstance(token.get("expires_in"), int), f"expires_in must be an integer: {show(token.get('expires_in'))}")
        check(token.get("refresh_token"), "no refresh_token (offline_access + prompt=consent)")
        check(token.get("id_token"), "no id_token")
        check(token["access_token"].count(".") != 2, "AT without resource at the token endpoint should be opaque")
        ctx.validate_id_token(token["id_token"], grant["nonce"], token["access_token"], ctx.app_id)

    suite.step("token response + ID token (joserfc, CodeIDToken: iss/aud/exp/iat/nonce/at_hash)", check_token_response)

    def userinfo() -> None:
        response = ctx.userinfo_status(token["access_token"])
        check(response.status_code == 200, f"userinfo: {describe_response(response)}")
        eq(expect_json(response, "userinfo").get("sub"), ctx.user["id"], "userinfo sub")

    suite.step("userinfo with the opaque access token", userinfo)

    refresh_token = token["refresh_token"]

    def refresh_original_scope() -> None:
        refreshed = dict(client.refresh_token(ctx.token_endpoint, refresh_token=refresh_token))
        check(refreshed.get("access_token"), f"no access_token: {show(refreshed)}")
        eq(refreshed.get("refresh_token"), refresh_token, "refresh_token after refresh (confidential: no rotation)")
        if refreshed.get("id_token"):
            # A refreshed ID token may omit nonce; when it keeps one it must be the original.
            ctx.validate_id_token(
                refreshed["id_token"], grant["nonce"], refreshed["access_token"], ctx.app_id, nonce_optional=True
            )

    suite.step(f'refresh_token with the original scope ("{SCOPE}")', refresh_original_scope)

    def refresh_resource() -> None:
        refreshed = dict(client.refresh_token(ctx.token_endpoint, refresh_token=refresh_token, resource=ctx.resource))
        ctx.validate_resource_token(refreshed["access_token"], ctx.app_id)
        eq(refreshed.get("refresh_token"), refresh_token, "refresh_token after a second refresh (no rotation)")

    suite.step(
        "refresh again with the same refresh token + resource → JWT AT (confidential: not rotated)", refresh_resource
    )

    def code_reuse() -> None:
        expect_oauth_error("invalid_grant", "reused authorization code", lambda: ctx.exchange(ctx.confidential(), grant))
        expect_oauth_error(
            "invalid_grant",
            "refresh token of the reused code's grant",
            lambda: ctx.confidential().refresh_token(ctx.token_endpoint, refresh_token=refresh_token),
        )
        response = ctx.userinfo_status(token["access_token"])
        check(
            response.status_code == 401,
            f"opaque AT of the reused code's grant must be revoked (userinfo 401), got {describe_response(response)}",
        )

    suite.step("reused code → invalid_grant, and the grant's refresh + access tokens are revoked", code_reuse)

    # ------------------------------------------------------------------------------------------
    def wrong_verifier() -> None:
        c = ctx.confidential()
        g = ctx.authorize(c, prompt="consent", resource=ctx.resource)
        expect_oauth_error(
            "invalid_grant", "wrong code_verifier", lambda: ctx.exchange(c, g, code_verifier=generate_token(48))
        )

    suite.step("wrong code_verifier → invalid_grant", wrong_verifier)

    def wrong_redirect() -> None:
        c = ctx.confidential()
        g = ctx.authorize(c, prompt="consent")
        other = urlsplit(ctx.redirect_uri)._replace(path="/not-registered").geturl()
        expect_oauth_error("invalid_grant", "redirect_uri mismatch at /oidc/token", lambda: ctx.exchange(c, g, redirect_uri=other))

    suite.step("unregistered redirect_uri at the token endpoint → invalid_grant", wrong_redirect)

    def public_rotation() -> None:
        c = ctx.public()
        g = ctx.authorize(c, prompt="consent", resource=ctx.resource)
        first = dict(ctx.exchange(c, g))
        check(first.get("refresh_token"), f"SPA: no refresh_token: {show(first)}")
        ctx.validate_id_token(first["id_token"], g["nonce"], first["access_token"], ctx.spa_id)
        rt1 = first["refresh_token"]
        second = dict(c.refresh_token(ctx.token_endpoint, refresh_token=rt1, resource=ctx.resource))
        ctx.validate_resource_token(second["access_token"], ctx.spa_id)
        rt2 = second.get("refresh_token")
        check(rt2 and rt2 != rt1, "public client: the refresh token must rotate on every refresh")
        expect_oauth_error(
            "invalid_grant",
            "rotated-out refresh token",
            lambda: ctx.public().refresh_token(ctx.token_endpoint, refresh_token=rt1),
        )

    suite.step("public SPA client: refresh rotates; the rotated-out refresh token → invalid_grant", public_rotation)

    def no_consent() -> None:
        c = ctx.confidential()
        g = ctx.authorize(c)  # no prompt
        issued = dict(ctx.exchange(c, g))
        check(issued.get("access_token"), "no access_token")
        check("refresh_token" not in issued, f"refresh_token issued without prompt=consent: {show(issued)}")
        ctx.validate_id_token(issued["id_token"], g["nonce"], issued["access_token"], ctx.app_id)

    suite.step("no prompt=consent → no refresh_token (offline_access dropped)", no_consent)

    def invalid_target() -> None:
        c = ctx.confidential(scope="openid offline_access profile")
        g = ctx.authorize(c, prompt="consent")  # no resource at /authorize
        issued = dict(ctx.exchange(c, g))
        check(issued.get("refresh_token"), f"no refresh_token: {show(issued)}")
        expect_oauth_error(
            "invalid_target",
            "refresh with a resource not requested at /authorize",
            lambda: c.refresh_token(ctx.token_endpoint, refresh_token=issued["refresh_token"], resource=ctx.resource),
        )

    suite.step("refresh with a resource not requested at /authorize → invalid_target", invalid_target)

    def unregistered_redirect_at_authorize() -> None:
        c = ctx.confidential()
        other = urlsplit(ctx.redirect_uri)._replace(path="/evil").geturl()
        url, _ = c.create_authorization_url(
            ctx.metadata["authorization_endpoint"],
            code_verifier=generate_token(48),
            redirect_uri=other,
            nonce=secrets.token_urlsafe(8),
        )
        response = walk.new_browser().get(url, allow_redirects=False, timeout=TIMEOUT)
        check("Location" not in response.headers, f"must not redirect: Location {response.headers.get('Location')}")
        eq(response.status_code, 400, f"status of /oidc/auth with an unregistered redirect_uri ({describe_response(response)})")
        check(
            response.headers.get("Content-Type", "").lower().startswith("text/html"),
            f"expected an HTML error page, got {response.headers.get('Content-Type')}",
        )

    suite.step("/oidc/auth with an unregistered redirect_uri → 400 HTML, no redirect", unregistered_redirect_at_authorize)


if __name__ == "__main__":
    Suite("authlib").run(main)
