// compat step "logto-node-consent": @logto/node 3.1.11 (Logto's official Node SDK) signs in to
// the Traditional app of the fixtures the way Logto's own integration tests drive a server:
//
//   LogtoClient.signIn (resources [the fixtures' API], scopes email + read:foo) → navigate URL
//   <BASE>/oidc/auth → 303 /sign-in → Experience API with a cookie jar (PUT SignIn, password
//   verification, identification, submit → redirectTo <BASE>/oidc/auth/<uid>) → 303
//   /consent?app_id=<appId> with _session + _session.sig (the client keeps only the cookies this
//   answer sets, as Logto's test client does) → GET /consent (first-party: answered) → 303
//   <BASE>/oidc/auth/<uid> → 303 <redirect_uri>?code → handleSignInCallback →
//   getIdTokenClaims / getAccessToken(resource) / fetchUserInfo with the user's real values.
//
// Env: KIDO_BASE, KIDO_BOOTSTRAP_CREDENTIALS, KIDO_COMPAT_FIXTURES (see compat/py/fixtures.py).

import LogtoClient from '@logto/node';

import {
  Browser,
  assert,
  assertEqual,
  createSuite,
  env,
  experienceSignIn,
  loadFixtures,
  responseSummary,
  show,
} from './lib/kit.mjs';

const suite = createSuite('logto-node-consent');

// The SDK's storage (Logto's tests use an in-memory one too).
class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  async getItem(key) {
    return this.items.get(key) ?? null;
  }
  async setItem(key, value) {
    this.items.set(key, value);
  }
  async removeItem(key) {
    this.items.delete(key);
  }
}

const payloadOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

// GET url with the browser's jar, expecting a 303; returns the absolute Location.
const see303 = async (browser, url, what) => {
  const response = await browser.fetch(url);
  if (response.status !== 303) assert(false, `${what}: expected 303, got ${await responseSummary(response)}`);
  const location = response.headers.get('location');
  assert(location, `${what}: 303 without Location`);
  await response.body?.cancel();
  return { location, response };
};

await suite.run(async () => {
  const { base, issuer } = env();
  const fx = loadFixtures();
  const app = fx.traditional;
  let navigateUrl;
  const logto = new LogtoClient(
    {
      endpoint: base,
      appId: app.id,
      appSecret: app.secret,
      resources: [fx.resource.indicator],
      scopes: ['email', fx.scope.name],
    },
    { navigate: (url) => (navigateUrl = url), storage: new MemoryStorage() }
  );

  const browser = new Browser();
  const resume = await suite.step('signIn → /oidc/auth → /sign-in → Experience API → submit', async () => {
    await logto.signIn({ redirectUri: fx.redirectUri });
    assert(navigateUrl?.startsWith(`${issuer}/auth?`), `signIn navigated to ${show(navigateUrl)}`);
    const { location } = await see303(browser, navigateUrl, 'GET /oidc/auth');
    assert(location.startsWith('/sign-in'), `GET /oidc/auth sent the browser to ${location}`);
    assert(browser.jar.has('_interaction'), 'no _interaction cookie');
    const redirectTo = await experienceSignIn(browser, base, fx.user.username, fx.user.password);
    assert(redirectTo.startsWith(`${issuer}/auth/`), `submit: redirectTo ${redirectTo}`);
    return redirectTo;
  });

  // As Logto's test client: only what the first resume sets goes on to /consent.
  const consenting = new Browser();
  await suite.step('GET /oidc/auth/<uid> → 303 /consent?app_id with _session and _session.sig', async () => {
    const { location, response } = await see303(browser, resume, 'GET /oidc/auth/<uid>');
    assertEqual(location, `/consent?app_id=${app.id}`, 'Location');
    consenting.jar.store(resume, response);
    for (const name of ['_session', '_session.sig', '_interaction']) {
      assert(consenting.jar.has(name), `the resume set no ${name} (set: ${consenting.jar.names().join(', ')})`);
    }
  });

  const callback = await suite.step('GET /consent (first-party: answered) → /oidc/auth/<uid> → callback', async () => {
    const { location } = await see303(consenting, `${base}/consent`, 'GET /consent');
    assertEqual(location, resume, 'GET /consent Location');
    const { location: back } = await see303(consenting, resume, 'GET /oidc/auth/<uid> after consent');
    const url = new URL(back);
    assertEqual(`${url.origin}${url.pathname}`, fx.redirectUri, 'callback');
    assert(url.searchParams.get('code'), `no code in ${back}`);
    assertEqual(url.searchParams.get('iss'), issuer, 'iss');
    return back;
  });

  await suite.step('handleSignInCallback', async () => {
    await logto.handleSignInCallback(callback);
    assert(await logto.isAuthenticated(), 'not authenticated after the callback');
  });

  await suite.step('getIdTokenClaims', async () => {
    const claims = await logto.getIdTokenClaims();
    assertEqual(claims.iss, issuer, 'iss');
    assertEqual(claims.aud, app.id, 'aud');
    assertEqual(claims.sub, fx.user.id, 'sub');
    assertEqual(claims.username, fx.user.username, 'username');
    assert(Number.isInteger(claims.auth_time) && claims.exp > claims.iat, `times: ${show(claims)}`);
  });

  await suite.step('getAccessToken(resource)', async () => {
    const token = await logto.getAccessToken(fx.resource.indicator);
    const claims = payloadOf(token);
    assertEqual(claims.aud, fx.resource.indicator, 'aud');
    assertEqual(claims.sub, fx.user.id, 'sub');
    assertEqual(claims.client_id, app.id, 'client_id');
    assert(claims.scope?.split(' ').includes(fx.scope.name), `scope: ${show(claims.scope)}`);
  });

  await suite.step('fetchUserInfo', async () => {
    const info = await logto.fetchUserInfo();
    assertEqual(info.sub, fx.user.id, 'sub');
    assertEqual(info.username, fx.user.username, 'username');
  });
});
