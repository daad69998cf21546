// compat step: passkeys in a real headless Chromium (Debian `chromium` + playwright-core) with a
// DevTools virtual authenticator (WebAuthn.addVirtualAuthenticator: CTAP2, internal, resident
// keys, user verification) — the browser's own WebAuthn implementation against Kido's relying
// party, through the Experience API from the sign-in page.
//
// WebAuthn refuses IP addresses as relying-party ids, and the run's server answers at
// http://127.0.0.1:<port>; so this step starts a second Kido of its own (KIDO_BIN, SQLite in a
// temporary data dir) whose public endpoint is http://localhost:<port>, and signs in with the
// built-in Live Preview app (`demo-app`).
//
//   (a) /oidc/auth → /sign-in → (in the page) password → identification → submit answers 422
//       user.missing_mfa → /verification/web-authn/registration → navigator.credentials.create
//       → /registration/verify → POST /profile/mfa {WebAuthn} → submit → /demo-app?code=…;
//   (b) prompt=login: password → submit answers 403 session.mfa.require_mfa_verification →
//       /web-authn/authentication → navigator.credentials.get → /authentication/verify → submit
//       → /demo-app?code=…; the Management API lists the passkey with Chromium's User-Agent.
//
// Env: KIDO_BIN (compat/run exports it), CHROMIUM_PATH (default /usr/bin/chromium).

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import process from 'node:process';

import { chromium } from 'playwright-core';

import { assert, assertEqual, createSuite, describeError, managementApi, randomPassword, randomUsername, show } from './lib/kit.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const suite = createSuite('passkey-chromium');

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

// The bootstrap credentials the server wrote into its data dir.
const credentialsFile = (dataDir) => {
  const name = readdirSync(dataDir).find((f) => f.startsWith('bootstrap-credentials') && f.endsWith('.json'));
  assert(name, `no bootstrap credentials in ${dataDir}`);
  return path.join(dataDir, name);
};

const b64url = (buffer) => Buffer.from(buffer).toString('base64url');

// Starts a Kido whose public endpoint is http://localhost:<port>; resolves once /api/status answers.
const startKido = async () => {
  const bin = process.env.KIDO_BIN;
  assert(bin && existsSync(bin), `KIDO_BIN not set or missing: ${show(bin)}`);
  const [port, adminPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(path.join(tmpdir(), 'kido-passkey-'));
  const env = { ...process.env, KIDO_DATA_DIR: dataDir, KIDO_PORT: String(port), KIDO_ADMIN_PORT: String(adminPort),
    KIDO_HOST: '127.0.0.1', KIDO_ENDPOINT: `http://localhost:${port}`, KIDO_ADMIN_ENDPOINT: `http://localhost:${adminPort}` };
  delete env.DATABASE_URL; // its own SQLite file, whatever the run's backend
  delete env.DB_URL;
  const child = spawn(bin, ['serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => { log = (log + chunk).slice(-4000); });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/status`);
      if (response.status === 204) break;
    } catch { /* not listening yet */ }
    assert(child.exitCode === null, `kido exited: ${log}`);
    assert(Date.now() < deadline, `kido did not answer within 60 s: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = () => { child.kill('SIGTERM'); rmSync(dataDir, { recursive: true, force: true }); };
  return { port, dataDir, stop };
};

// Runs in the page (the sign-in page's origin): the Experience API walk with the browser's WebAuthn.
const walkInPage = async ({ username, password, ceremony }) => {
  const toB64url = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const fromB64url = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const api = async (method, route, body) => {
    const response = await fetch(`/api/experience${route}`, {
      method, headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  const steps = [];
  const expect = (reply, status, what) => {
    steps.push(`${what}: ${reply.status}`);
    if (reply.status !== status) throw new Error(`${what}: expected ${status}, got ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body;
  };
  expect(await api('PUT', '', { interactionEvent: 'SignIn' }), 204, 'PUT');
  const verified = expect(await api('POST', '/verification/password',
    { identifier: { type: 'username', value: username }, password }), 200, 'password');
  expect(await api('POST', '/identification', { verificationId: verified.verificationId }), 204, 'identification');
  const refused = await api('POST', '/submit');
  steps.push(`submit before a passkey: ${refused.status} ${refused.body?.code}`);
  if (ceremony === 'registration') {
    const { verificationId, registrationOptions: o } = expect(await api('POST', '/verification/web-authn/registration'), 200, 'registration options');
    const credential = await navigator.credentials.create({ publicKey: {
      ...o, challenge: fromB64url(o.challenge), user: { ...o.user, id: fromB64url(o.user.id) },
      excludeCredentials: (o.excludeCredentials ?? []).map((c) => ({ ...c, id: fromB64url(c.id) })),
    } });
    const payload = { id: credential.id, rawId: toB64url(credential.rawId), type: 'WebAuthn', response: {
      clientDataJSON: toB64url(credential.response.clientDataJSON),
      attestationObject: toB64url(credential.response.attestationObject),
      transports: credential.response.getTransports?.() ?? [],
    } };
    expect(await api('POST', '/verification/web-authn/registration/verify', { verificationId, payload }), 200, 'registration verify');
    expect(await api('POST', '/profile/mfa', { type: 'WebAuthn', verificationId }), 204, 'bind');
  } else {
    const { verificationId, authenticationOptions: o } = expect(await api('POST', '/verification/web-authn/authentication'), 200, 'authentication options');
    const assertion = await navigator.credentials.get({ publicKey: {
      ...o, challenge: fromB64url(o.challenge),
      allowCredentials: (o.allowCredentials ?? []).map((c) => ({ ...c, id: fromB64url(c.id) })),
    } });
    const payload = { id: assertion.id, rawId: toB64url(assertion.rawId), type: 'WebAuthn', response: {
      clientDataJSON: toB64url(assertion.response.clientDataJSON),
      authenticatorData: toB64url(assertion.response.authenticatorData),
      signature: toB64url(assertion.response.signature),
      userHandle: assertion.response.userHandle ? toB64url(assertion.response.userHandle) : undefined,
    } };
    expect(await api('POST', '/verification/web-authn/authentication/verify', { verificationId, payload }), 200, 'authentication verify');
  }
  const done = expect(await api('POST', '/submit'), 200, 'submit');
  return { steps, refused: refused.body?.code, redirectTo: done.redirectTo };
};

const main = async () => {
  let kido;
  let browser;
  try {
    kido = await suite.step('start a Kido of its own at http://localhost:<port>', () => startKido());
    const origin = `http://localhost:${kido.port}`;
    process.env.KIDO_BASE = `http://127.0.0.1:${kido.port}`;
    process.env.KIDO_BOOTSTRAP_CREDENTIALS = credentialsFile(kido.dataDir);
    const mapi = managementApi();
    const username = randomUsername('passkey');
    const password = randomPassword();
    const user = await suite.step('POST /api/users', () => mapi.request('POST', '/api/users', { body: { username, password } }));
    await suite.step('PATCH /api/sign-in-exp (mfa: WebAuthn, Mandatory)', () =>
      mapi.request('PATCH', '/api/sign-in-exp', { body: { mfa: { factors: ['WebAuthn'], policy: 'Mandatory' } } }));

    browser = await suite.step(`launch headless Chromium (${CHROMIUM})`, async () => {
      assert(existsSync(CHROMIUM), `${CHROMIUM} not found (apt-get install -y chromium, or set CHROMIUM_PATH)`);
      return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    });
    // The hosted pages run no script (their CSP allows none); the walk runs in the page's origin
    // as a sign-in app would, so the page's CSP is set aside for it.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await suite.step('DevTools virtual authenticator (CTAP2, internal, resident keys, UV)', async () => {
      await cdp.send('WebAuthn.enable');
      await cdp.send('WebAuthn.addVirtualAuthenticator', { options: {
        protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true,
      } });
    });
    const signIn = async (ceremony, extra) => {
      const verifier = b64url(randomBytes(32));
      const challenge = b64url(createHash('sha256').update(verifier).digest());
      const redirect = `${origin}/demo-app`;
      const query = new URLSearchParams({ client_id: 'demo-app', redirect_uri: redirect, response_type: 'code',
        scope: 'openid profile', state: 'st4te', code_challenge: challenge, code_challenge_method: 'S256', ...extra });
      await page.goto(`${origin}/oidc/auth?${query}`);
      assertEqual(new URL(page.url()).pathname, '/sign-in', 'landing page');
      const result = await page.evaluate(walkInPage, { username, password, ceremony });
      console.log(`passkey-chromium: ${result.steps.join(', ')}`);
      // The app's redirect (with the code), seen among the navigation's requests.
      let callback;
      const seen = (request) => {
        const url = new URL(request.url());
        if (url.pathname === '/demo-app' && url.searchParams.has('code')) callback = request.url();
      };
      page.on('request', seen);
      await page.goto(new URL(result.redirectTo, origin).href);
      page.off('request', seen);
      const params = new URL(callback ?? page.url()).searchParams;
      assert(params.get('code') && params.get('state') === 'st4te', `no code in the app's redirect: ${show(callback ?? page.url())}`);
      return result;
    };
    await suite.step('(a) sign-in registers and binds a passkey (navigator.credentials.create)', async () => {
      const result = await signIn('registration', {});
      assertEqual(result.refused, 'user.missing_mfa', 'submit before binding');
    });
    await suite.step('(b) next sign-in proves it (navigator.credentials.get)', async () => {
      const result = await signIn('authentication', { prompt: 'login' });
      assertEqual(result.refused, 'session.mfa.require_mfa_verification', 'submit before the passkey');
    });
    await suite.step('the Management API lists the passkey with Chromium\'s User-Agent', async () => {
      const factors = await mapi.request('GET', `/api/users/${encodeURIComponent(user.id)}/mfa-verifications`);
      assertEqual(JSON.stringify(factors.map((f) => f.type)), '["WebAuthn"]', 'bound factors');
      const agent = await page.evaluate(() => navigator.userAgent);
      assertEqual(factors[0].agent, agent, 'agent');
    });
  } finally {
    await browser?.close().catch((error) => console.error(`closing Chromium: ${describeError(error)}`));
    kido?.stop();
  }
};

await suite.run(main);
