// compat step: passkeys in a real headless Chromium (Debian `chromium` + playwright-core) with a
// DevTools virtual authenticator (WebAuthn.addVirtualAuthenticator: CTAP2, internal, resident
// keys, user verification) — the browser's own WebAuthn implementation against Kido's relying
// party, clicked through the hosted pages under their own CSP (the page's script,
// /assets/passkey.js, runs the ceremony against the Experience API).
//
// WebAuthn refuses IP addresses as relying-party ids, and the run's server answers at
// http://127.0.0.1:<port>; so this step starts a second Kido of its own (KIDO_BIN, SQLite in a
// temporary data dir) whose public endpoint is http://localhost:<port>, and signs in with the
// built-in Live Preview app (`demo-app`).
//
//   (a) /oidc/auth → /sign-in (username, password) → /mfa-binding → "Passkey" →
//       /mfa-binding/WebAuthn → "Create a passkey" (navigator.credentials.create) →
//       /demo-app?code=…;
//   (b) prompt=login: /sign-in → /mfa-verification/WebAuthn → "Use your passkey"
//       (navigator.credentials.get) → /demo-app?code=…; the Management API lists the passkey
//       with Chromium's User-Agent;
//   (c) the authenticator refuses (user verification fails): the page shows the error in its
//       language (ja) and stays, offering the button again;
//   (d) JavaScript off: /mfa-binding/WebAuthn says a passkey needs it, the form stays hidden,
//       the authenticator app is one click away.
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
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    const authenticator = await suite.step('DevTools virtual authenticator (CTAP2, internal, resident keys, UV)', async () => {
      await cdp.send('WebAuthn.enable');
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: {
        protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true,
        automaticPresenceSimulation: true,
      } });
      return authenticatorId;
    });
    // No page may run an inline script or break its CSP.
    const violations = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    // The app's redirect (with the code), seen among the navigation's requests.
    let callback;
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/demo-app' && url.searchParams.has('code')) callback = request.url();
    });
    const authorize = async (extra) => {
      const verifier = b64url(randomBytes(32));
      const challenge = b64url(createHash('sha256').update(verifier).digest());
      const query = new URLSearchParams({ client_id: 'demo-app', redirect_uri: `${origin}/demo-app`, response_type: 'code',
        scope: 'openid profile', state: 'st4te', code_challenge: challenge, code_challenge_method: 'S256', ...extra });
      callback = undefined;
      await page.goto(`${origin}/oidc/auth?${query}`);
      assertEqual(new URL(page.url()).pathname, '/sign-in', 'landing page');
      await page.fill('input[name=identifier]', username);
      await page.fill('input[name=password]', password);
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    };
    const atApp = async () => {
      await page.waitForURL((url) => url.pathname === '/demo-app', { timeout: 15_000 });
      const params = new URL(callback ?? page.url()).searchParams;
      assert(params.get('code') && params.get('state') === 'st4te', `no code in the app's redirect: ${show(callback ?? page.url())}`);
    };
    await suite.step('(a) sign-in binds a passkey on /mfa-binding/WebAuthn (navigator.credentials.create)', async () => {
      await authorize({});
      assertEqual(new URL(page.url()).pathname, '/mfa-binding', 'after the password');
      await Promise.all([page.waitForNavigation(), page.click('a[href^="/mfa-binding/WebAuthn"]')]);
      assertEqual(new URL(page.url()).pathname, '/mfa-binding/WebAuthn', 'binding page');
      await page.click('#passkey button[type=submit]');
      await atApp();
    });
    await suite.step('(b) next sign-in proves it on /mfa-verification/WebAuthn (navigator.credentials.get)', async () => {
      await authorize({ prompt: 'login' });
      assertEqual(new URL(page.url()).pathname, '/mfa-verification/WebAuthn', 'after the password');
      await page.click('#passkey button[type=submit]');
      await atApp();
    });
    await suite.step('the Management API lists the passkey with Chromium\'s User-Agent', async () => {
      const factors = await mapi.request('GET', `/api/users/${encodeURIComponent(user.id)}/mfa-verifications`);
      assertEqual(JSON.stringify(factors.map((f) => f.type)), '["WebAuthn"]', 'bound factors');
      const agent = await page.evaluate(() => navigator.userAgent);
      assertEqual(factors[0].agent, agent, 'agent');
    });
    await suite.step('(c) a refused ceremony is shown on the page, in its language, and can be retried', async () => {
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId: authenticator, isUserVerified: false });
      await authorize({ prompt: 'login', ui_locales: 'ja' });
      assertEqual(new URL(page.url()).pathname, '/mfa-verification/WebAuthn', 'after the password');
      await page.click('#passkey button[type=submit]');
      const error = page.locator('#passkey-error');
      await error.waitFor({ state: 'visible', timeout: 15_000 });
      const text = await error.textContent();
      assert(/パスキー/.test(text), `the error in Japanese: ${show(text)}`);
      assertEqual(new URL(page.url()).pathname, '/mfa-verification/WebAuthn', 'still on the page');
      assert(await page.locator('#passkey button[type=submit]').isEnabled(), 'the button can be clicked again');
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId: authenticator, isUserVerified: true });
      await page.click('#passkey button[type=submit]');
      await atApp();
    });
    await suite.step('(d) without JavaScript the passkey page says so and offers the other factor', async () => {
      await mapi.request('PATCH', '/api/sign-in-exp', { body: { mfa: { factors: ['WebAuthn', 'Totp'], policy: 'Mandatory' } } });
      const other = { username: randomUsername('nojs'), password: randomPassword() };
      await mapi.request('POST', '/api/users', { body: other });
      const noScript = await browser.newContext({ javaScriptEnabled: false });
      try {
        const tab = await noScript.newPage();
        await tab.goto(`${origin}/oidc/auth?${new URLSearchParams({ client_id: 'demo-app', redirect_uri: `${origin}/demo-app`,
          response_type: 'code', scope: 'openid', code_challenge: b64url(randomBytes(32)), code_challenge_method: 'S256' })}`);
        await tab.fill('input[name=identifier]', other.username);
        await tab.fill('input[name=password]', other.password);
        await Promise.all([tab.waitForNavigation(), tab.click('button[type=submit]')]);
        assertEqual(new URL(tab.url()).pathname, '/mfa-binding', 'after the password');
        await Promise.all([tab.waitForNavigation(), tab.click('a[href^="/mfa-binding/WebAuthn"]')]);
        const text = await tab.locator('body').innerText();
        assert(text.includes('A passkey needs JavaScript'), `the no-script message: ${show(text)}`);
        assert(!(await tab.locator('#passkey').isVisible()), 'the passkey form stays hidden');
        await Promise.all([tab.waitForNavigation(), tab.click('a[href^="/mfa-binding/Totp"]')]);
        assertEqual(new URL(tab.url()).pathname, '/mfa-binding/Totp', 'the other factor, without a script');
      } finally {
        await noScript.close();
      }
    });
    await suite.step('no CSP violation on the pages', async () => {
      assertEqual(JSON.stringify(violations), '[]', 'CSP violations');
    });
  } finally {
    await browser?.close().catch((error) => console.error(`closing Chromium: ${describeError(error)}`));
    kido?.stop();
  }
};

await suite.run(main);
