#!/usr/bin/env python3
"""compat step 3: the official Python SDK (PyPI `logto` 0.2.1) against Kido.

real-clients.md §1 and §9 step 3:

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
  Flow 3 (organization token, Logto RFC 0001), fresh SDK storage and fresh cookie jar:
    Management API: organization scopes org:create-* and org:read-*, an organization role
    carrying org:create only, an organization with the fixture user as a member holding that
    role → LogtoClient(resources=[], scopes=[UserInfoScope.organizations (the enum: the SDK tests
    membership of the enum), UserInfoScope.organization_roles, org:create-*, org:read-*]) →
    authorization URL has resource=urn:logto:resource:organizations → sign-in walk → ID token
    and userinfo `organizations` ∋ orgId, `organization_roles` ∋ "<orgId>:<role name>" →
    getOrganizationToken/getOrganizationTokenClaims (refresh_token grant with organization_id →
    JWT AT, aud = urn:logto:organization:<orgId>, scope ∋ org:create-*, ∌ org:read-*) → membership
    removed (DELETE /api/organizations/{id}/users/{userId} → 204) → a new organization token is
    refused: POST /oidc/token → 400/403 error=access_denied, and the SDK raises → organization,
    role and scopes deleted (204 each) so later steps see the tenant as it was.

Env: KIDO_BASE, KIDO_BOOTSTRAP_CREDENTIALS, KIDO_COMPAT_FIXTURES (see fixtures.py).
"""

from __future__ import annotations

import secrets
from typing import Dict, List, Optional, Union
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from logto import LogtoClient, LogtoConfig, LogtoException, Scope, Storage, UserInfoScope
from logto.models.oidc import ReservedResource
from logto.utilities import buildOrganizationUrn

import fixtures
import walk
from harness import Suite, check, eq, expect_json, expect_status, fail, show


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


def default_resources(fx: dict) -> List[str]:
    return [fx["resource"]["indicator"]]


def default_scopes(fx: dict) -> List[str]:
    return ["email", fx["scope"]["name"]]


def make_client(
    fx: dict,
    resources: Optional[List[str]] = None,
    scopes: Optional[List[Union[str, Scope]]] = None,
    storage: Optional[Storage] = None,
) -> LogtoClient:
    """The Traditional app of the fixtures; by default resources=[https://api.example.com] and
    scopes=[email, read:foo], with fresh in-memory storage."""
    return LogtoClient(
        LogtoConfig(
            endpoint=fx["base"],
            appId=fx["traditional"]["id"],
            appSecret=fx["traditional"]["secret"],
            resources=default_resources(fx) if resources is None else resources,
            scopes=default_scopes(fx) if scopes is None else scopes,
        ),
        storage=storage or DictStorage(),
    )


def check_auth_url(
    fx: dict,
    url: str,
    interaction_mode: Optional[str],
    resources: Optional[List[str]] = None,
    scopes: Optional[List[str]] = None,
) -> None:
    """resources: the exact resource parameters expected (default: the fixture resource); scopes:
    those expected besides the SDK defaults (default: email read:foo)."""
    parts = urlsplit(url)
    eq(f"{parts.scheme}://{parts.netloc}{parts.path}", f"{fx['base']}/oidc/auth", "authorization_endpoint")
    query = parse_qs(parts.query)
    eq(query.get("client_id"), [fx["traditional"]["id"]], "client_id")
    expected_resources = default_resources(fx) if resources is None else resources
    eq(sorted(query.get("resource") or []), sorted(expected_resources), "resource")
    eq(query.get("prompt"), ["consent"], "prompt")
    eq(query.get("code_challenge_method"), ["S256"], "code_challenge_method")
    requested = (query.get("scope") or [""])[0].split()
    for expected in ["openid", "offline_access", "profile"] + (default_scopes(fx) if scopes is None else scopes):
        check(expected in requested, f"scope {expected} missing from {requested}")
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

    # ----------------------------------------------------------------------------------------
    # Flow 3: organization token (fresh SDK storage, fresh cookie jar)
    await organization_flow(suite, fx)


async def organization_flow(suite: Suite, fx: dict) -> None:
    """Flow 3. Whatever happens, the organization, role and scopes it creates are deleted again:
    checked (204 each) when the flow passed, best effort when it failed."""
    mapi = fixtures.ManagementApi.from_env()
    created: List[str] = []  # DELETE paths, in creation order

    def delete_created(strict: bool) -> None:
        """Deletes everything (newest first); then, if strict, fails with what could not be."""
        errors = []
        while created:
            path = created.pop()
            try:
                mapi.delete(path)
            except Exception as error:  # noqa: BLE001 - try the rest; a failed flow must not be masked
                errors.append(f"DELETE {path}: {error}")
        if errors and strict:
            fail("; ".join(errors))
        for error in errors:
            print(f"note logto-sdk: cleanup after the failure: {error}", flush=True)

    try:
        await organization_token_checks(suite, fx, mapi, created)
    except BaseException:
        delete_created(strict=False)
        raise
    suite.step(
        "clean up: DELETE organization, organization role and scopes (Management API → 204)",
        lambda: delete_created(strict=True),
    )


async def organization_token_checks(
    suite: Suite, fx: dict, mapi: fixtures.ManagementApi, created: List[str]
) -> None:
    user = fx["user"]
    suffix = secrets.token_hex(4)
    granted, withheld = f"org:create-{suffix}", f"org:read-{suffix}"
    role_name = f"compat-admin-{suffix}"

    def create(path: str, body: dict) -> dict:
        data = mapi.create(path, body)
        created.append(f"{path}/{data['id']}")
        return data

    def setup() -> str:
        scope = create("/api/organization-scopes", {"name": granted, "description": "compat: granted by the role"})
        eq(scope.get("name"), granted, "organization scope name")
        create("/api/organization-scopes", {"name": withheld, "description": "compat: granted by no role"})
        role = create(
            "/api/organization-roles",
            {"name": role_name, "type": "User", "organizationScopeIds": [scope["id"]]},
        )
        eq(role.get("name"), role_name, "organization role name")
        org_id = create("/api/organizations", {"name": f"Compat Org {suffix}"})["id"]
        mapi.call("POST", f"/api/organizations/{org_id}/users", 201, {"userIds": [user["id"]]})
        mapi.call(
            "POST",
            f"/api/organizations/{org_id}/users/{user['id']}/roles",
            201,
            {"organizationRoleIds": [role["id"]]},
        )
        return org_id

    org_id = suite.step(
        "Management API: organization scopes, role (org:create only), organization, user member with the "
        "role (POST … → 201)",
        setup,
    )

    storage = DictStorage()
    client = make_client(
        fx,
        resources=[],
        scopes=[UserInfoScope.organizations, UserInfoScope.organization_roles, granted, withheld],
        storage=storage,
    )
    browser = walk.new_browser()

    sign_in_url = await suite.astep(
        "signIn() with UserInfoScope.organizations adds resource urn:logto:resource:organizations",
        lambda: client.signIn(fx["redirectUri"]),
    )
    check_auth_url(
        fx,
        sign_in_url,
        None,
        resources=[ReservedResource.organizations.value],
        scopes=[UserInfoScope.organizations.value, UserInfoScope.organization_roles.value, granted, withheld],
    )

    callback = suite.step(
        "browser: /oidc/auth → 303 /sign-in → Experience API (SignIn, password) → redirect_uri",
        lambda: walk.sign_in(browser, fx["base"], sign_in_url, fx["redirectUri"], user["username"], user["password"]),
    )
    check_callback(fx, callback)

    await suite.astep(
        "handleSignInCallback (organizations scopes, ID token verified)",
        lambda: client.handleSignInCallback(callback),
    )

    org_role = f"{org_id}:{role_name}"

    def id_token_claims() -> None:
        claims = client.getIdTokenClaims()
        eq(claims.sub, user["id"], "ID token sub")
        check(org_id in (claims.organizations or []), f"ID token organizations {claims.organizations} lacks {org_id}")
        check(
            org_role in (claims.organization_roles or []),
            f"ID token organization_roles {claims.organization_roles} lacks {org_role}",
        )

    suite.step("getIdTokenClaims: organizations ∋ orgId, organization_roles ∋ orgId:roleName", id_token_claims)

    async def user_info() -> None:
        info = await client.fetchUserInfo()
        eq(info.sub, user["id"], "userinfo sub")
        check(org_id in (info.organizations or []), f"userinfo organizations {info.organizations} lacks {org_id}")
        check(
            org_role in (info.organization_roles or []),
            f"userinfo organization_roles {info.organization_roles} lacks {org_role}",
        )

    await suite.astep("fetchUserInfo: organizations ∋ orgId, organization_roles ∋ orgId:roleName", user_info)

    async def organization_token() -> None:
        token = await client.getOrganizationToken(org_id)
        check(token and token.count(".") == 2, f"organization token is not a JWT: {show(token)}")
        eq(jwt.get_unverified_header(token).get("typ"), "at+jwt", "organization token header typ")
        claims = await client.getOrganizationTokenClaims(org_id)
        eq(claims.aud, buildOrganizationUrn(org_id), "organization token aud")
        eq(claims.sub, user["id"], "organization token sub")
        eq(claims.iss, fx["issuer"], "organization token iss")
        scopes = claims.scope.split()
        check(granted in scopes, f"organization token scope {claims.scope!r} lacks {granted} (granted by the role)")
        check(withheld not in scopes, f"organization token scope {claims.scope!r} has {withheld} (no role grants it)")
        if claims.client_id is not None:
            eq(claims.client_id, fx["traditional"]["id"], "organization token client_id")

    await suite.astep(
        "getOrganizationToken/getOrganizationTokenClaims (refresh + organization_id → JWT AT, "
        "aud urn:logto:organization:<id>, role scopes only)",
        organization_token,
    )

    suite.step(
        "Management API: remove the membership (DELETE /api/organizations/{id}/users/{userId} → 204)",
        lambda: mapi.delete(f"/api/organizations/{org_id}/users/{user['id']}"),
    )

    token_endpoint = (await client.getOidcCore()).metadata.token_endpoint

    def refused_on_the_wire() -> None:
        refresh_token = client.getRefreshToken()
        check(refresh_token, "no refresh token stored")
        # The SDK's own request (client_secret_post), sent by hand to see the status.
        response = requests.post(
            token_endpoint,
            data={
                "grant_type": "refresh_token",
                "client_id": fx["traditional"]["id"],
                "client_secret": fx["traditional"]["secret"],
                "refresh_token": refresh_token,
                "organization_id": org_id,
            },
            timeout=walk.TIMEOUT,
        )
        expect_status(response, (400, 403), "refresh_token grant with organization_id after removal")
        body = expect_json(response, "refresh_token grant with organization_id after removal")
        eq(body.get("error"), "access_denied", "token endpoint error")

    suite.step(
        "former member: POST /oidc/token (refresh_token + organization_id) → 400/403 access_denied",
        refused_on_the_wire,
    )

    async def refused_through_sdk() -> None:
        storage.delete("accessTokenMap")  # the SDK's access-token cache; forces a refresh
        try:
            token = await client.getOrganizationToken(org_id)
        except LogtoException as error:
            check("access_denied" in str(error), f"getOrganizationToken failed, but not with access_denied: {error}")
        else:
            fail(f"getOrganizationToken still returns a token for a former member: {show(token)}")

    await suite.astep("former member: getOrganizationToken raises (access_denied)", refused_through_sdk)


if __name__ == "__main__":
    Suite("logto-sdk").run(main)
