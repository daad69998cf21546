// compat step 4: openid-client 6.8.9 (on oauth4webapi 3.8.8), the strict RP — real-clients.md
// §5 and §9 step 4. Runs the whole flow twice, once with ClientSecretBasic and once with
// ClientSecretPost, for the Traditional app of the fixtures:
//
//   discovery (issuer exactly <BASE>/oidc, supportsPKCE) → authorization URL (PKCE S256, nonce,
//   state, prompt=consent, resource, scope "openid offline_access profile email read:foo") →
//   Experience-API walk with fetch + cookie jar → callback with iss → authorizationCodeGrant
//   (expectedNonce, pkceCodeVerifier, expectedState) → fetchUserInfo (sub) → refreshTokenGrant
//   with resource → validateJwtAccessToken (RFC 9068) → introspection of the opaque AT and of
//   the refresh token (active), of the JWT AT (400 unsupported_token_type) → prompt=none in the
//   same jar (code, session reuse) and with an empty jar (login_required) → revocation of the
//   refresh token (then active:false, refresh invalid_grant) → buildEndSessionUrl with
//   id_token_hint + post_logout_redirect_uri → form POST → 303 → prompt=none now login_required.
//
// Env: KIDO_BASE, KIDO_BOOTSTRAP_CREDENTIALS, KIDO_COMPAT_FIXTURES (see compat/py/fixtures.py).

import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';

import {
  Browser,
  assert,
  assertEqual,
  createSuite,
  env,
  expectOAuthError,
  loadFixtures,
  show,
  signIn,
  signOut,
} from './lib/kit.mjs';

const SCOPE = 'openid offline_access profile email read:foo';

const suite = createSuite('rp-strict');

const isJwt = (token) => typeof token === 'string' && token.split('.').length === 3;

const authorizationRequest = async (config, fx, extra = {}) => {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const parameters = {
    redirect_uri: fx.redirectUri,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    prompt: 'consent',
    resource: fx.resource.indicator,
    ...extra,
  };
  // `extra` may unset a parameter with undefined.
  for (const [key, value] of Object.entries(parameters)) if (value === undefined) delete parameters[key];
  const url = client.buildAuthorizationUrl(config, parameters);
  return { url, verifier, nonce, state };
};

const runWith = async (label, clientAuth, fx) => {
  const { base, issuer } = env();
  const resource = fx.resource.indicator;
  const appId = fx.traditional.id;
  const userId = fx.user.id;

  const config = await suite.step(`${label}: discovery (issuer exactly ${issuer}, PKCE S256)`, async () => {
    const config = await client.discovery(new URL(issuer), appId, fx.traditional.secret, clientAuth, {
      execute: [client.allowInsecureRequests],
    });
    const metadata = config.serverMetadata();
    assertEqual(metadata.issuer, issuer, 'discovery issuer');
    assert(metadata.supportsPKCE(), 'serverMetadata().supportsPKCE() is false (code_challenge_methods_supported)');
    return config;
  });

  const browser = new Browser();
  const request = await authorizationRequest(config, fx);
  const callback = await suite.step(`${label}: browser leg (Experience-API walk) → callback with code, state, iss`, async () => {
    const url = await signIn(browser, base, request.url.href, fx.redirectUri, fx.user.username, fx.user.password);
    const params = new URL(url).searchParams;
    assert(params.get('code'), `callback without code: ${url}`);
    assertEqual(params.get('iss'), issuer, 'callback iss');
    assertEqual(params.get('state'), request.state, 'callback state');
    return new URL(url);
  });

  const tokens = await suite.step(`${label}: authorizationCodeGrant (nonce, PKCE, state, iss, ID token)`, async () => {
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: request.verifier,
      expectedNonce: request.nonce,
      expectedState: request.state,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    assertEqual(claims.sub, userId, 'ID token sub');
    assertEqual(claims.aud, appId, 'ID token aud (a string)');
    assertEqual(claims.nonce, request.nonce, 'ID token nonce');
    assert(typeof tokens.refresh_token === 'string' && tokens.refresh_token, 'no refresh_token');
    assert(!isJwt(tokens.access_token), 'the AT of the code exchange (no resource at /token) should be opaque');
    return tokens;
  });

  await suite.step(`${label}: fetchUserInfo (sub matches the ID token)`, async () => {
    const info = await client.fetchUserInfo(config, tokens.access_token, userId);
    assertEqual(info.sub, userId, 'userinfo sub');
  });

  const refreshed = await suite.step(`${label}: refreshTokenGrant {resource} → JWT AT, validateJwtAccessToken`, async () => {
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, { resource });
    assert(isJwt(refreshed.access_token), `resource AT is not a JWT: ${show(refreshed.access_token)}`);
    const claims = await oauth.validateJwtAccessToken(
      config.serverMetadata(),
      new Request(`${base}/compat/protected`, { headers: { authorization: `Bearer ${refreshed.access_token}` } }),
      resource,
      { [oauth.allowInsecureRequests]: true }
    );
    assertEqual(claims.aud, resource, 'JWT AT aud');
    assertEqual(claims.sub, userId, 'JWT AT sub');
    assertEqual(claims.client_id, appId, 'JWT AT client_id');
    assert(
      String(claims.scope ?? '').split(' ').includes('read:foo'),
      `JWT AT scope lacks read:foo: ${show(claims.scope)}`
    );
    return refreshed;
  });
  // Confidential client: not rotated before 70 % of the lifetime (same token handed back, or none).
  const refreshToken = refreshed.refresh_token ?? tokens.refresh_token;

  await suite.step(`${label}: tokenIntrospection of the opaque AT and of the refresh token (active)`, async () => {
    const at = await client.tokenIntrospection(config, tokens.access_token);
    assertEqual(at.active, true, 'opaque AT active');
    assertEqual(at.sub, userId, 'opaque AT introspection sub');
    if (at.client_id !== undefined) assertEqual(at.client_id, appId, 'opaque AT introspection client_id');
    const rt = await client.tokenIntrospection(config, refreshToken);
    assertEqual(rt.active, true, 'refresh token active');
    assertEqual(rt.sub, userId, 'refresh token introspection sub');
  });

  await suite.step(`${label}: tokenIntrospection of a JWT AT → unsupported_token_type`, async () => {
    const error = await expectOAuthError('unsupported_token_type', 'introspection of a JWT AT', () =>
      client.tokenIntrospection(config, refreshed.access_token)
    );
    if (error.status !== undefined) assertEqual(error.status, 400, 'introspection of a JWT AT: HTTP status');
  });

  await suite.step(`${label}: prompt=none in the signed-in jar → code (session reuse)`, async () => {
    const silent = await authorizationRequest(config, fx, { prompt: 'none', scope: 'openid profile', resource: undefined });
    const url = await browser.followTo(silent.url.href, fx.redirectUri);
    const silentTokens = await client.authorizationCodeGrant(config, new URL(url), {
      pkceCodeVerifier: silent.verifier,
      expectedNonce: silent.nonce,
      expectedState: silent.state,
      idTokenExpected: true,
    });
    assertEqual(silentTokens.claims().sub, userId, 'prompt=none ID token sub');
  });

  await suite.step(`${label}: prompt=none with an empty jar → login_required on the redirect`, async () => {
    const silent = await authorizationRequest(config, fx, { prompt: 'none', scope: 'openid profile', resource: undefined });
    const url = await new Browser().followTo(silent.url.href, fx.redirectUri);
    await expectOAuthError('login_required', `prompt=none without a session (${url})`, () =>
      client.authorizationCodeGrant(config, new URL(url), {
        pkceCodeVerifier: silent.verifier,
        expectedNonce: silent.nonce,
        expectedState: silent.state,
      })
    );
  });

  await suite.step(`${label}: tokenRevocation of the refresh token → introspection active:false`, async () => {
    await client.tokenRevocation(config, refreshToken);
    const rt = await client.tokenIntrospection(config, refreshToken);
    assertEqual(rt.active, false, 'revoked refresh token active');
    await expectOAuthError('invalid_grant', 'refresh with the revoked refresh token', () =>
      client.refreshTokenGrant(config, refreshToken)
    );
  });

  await suite.step(`${label}: buildEndSessionUrl (id_token_hint, post_logout_redirect_uri) → form → 303`, async () => {
    const url = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: fx.postLogoutRedirectUri,
    });
    assertEqual(`${url.origin}${url.pathname}`, `${issuer}/session/end`, 'end_session_endpoint');
    await signOut(browser, url.href, fx.postLogoutRedirectUri);
  });

  await suite.step(`${label}: after sign-out, prompt=none in the same jar → login_required`, async () => {
    const silent = await authorizationRequest(config, fx, { prompt: 'none', scope: 'openid profile', resource: undefined });
    const url = await browser.followTo(silent.url.href, fx.redirectUri);
    await expectOAuthError('login_required', `prompt=none after sign-out (${url})`, () =>
      client.authorizationCodeGrant(config, new URL(url), {
        pkceCodeVerifier: silent.verifier,
        expectedNonce: silent.nonce,
        expectedState: silent.state,
      })
    );
  });
};

await suite.run(async () => {
  const fx = await suite.step('fixtures', () => loadFixtures());
  await runWith('client_secret_basic', client.ClientSecretBasic(fx.traditional.secret), fx);
  await runWith('client_secret_post', client.ClientSecretPost(fx.traditional.secret), fx);
});
