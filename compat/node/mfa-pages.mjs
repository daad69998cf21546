// compat step: the hosted second-factor pages in a real headless Chromium (Debian `chromium` +
// playwright-core), with TOTP codes computed by an independent implementation (otpauth, pinned).
//
//   (a) bind at sign-in under a mandatory policy: /sign-in → /mfa-binding → /mfa-binding/Totp
//       (the QR code image loads under the pages' CSP; the key is read off the page and fed to
//       otpauth) → a wrong code is refused under the field → the right code →
//       /mfa-binding/BackupCode (ten codes, a data: download) → "I have saved them" → redirect_uri
//       with a code → ID token sub = the new user;
//   (b) sign in again: /sign-in → /mfa-verification/Totp → the next time step's code → callback;
//   (c) sign in with a backup code: /mfa-verification/Totp → "use a backup code" → callback.
//
// It creates its own user, PATCHes the sign-in experience's `mfa` and restores it, and deletes
// the user at the end. Screenshots in $COMPAT_OUT_DIR/mfa-pages/.
//
// Env: KIDO_BASE, KIDO_BOOTSTRAP_CREDENTIALS, KIDO_COMPAT_FIXTURES, CHROMIUM_PATH (default
// /usr/bin/chromium), COMPAT_OUT_DIR, COMPAT_BROWSER_TIMEOUT_MS (default 15000).

import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

import * as client from 'openid-client';
import * as OTPAuth from 'otpauth';
import { chromium } from 'playwright-core';

import {
  assert,
  assertEqual,
  createSuite,
  env,
  loadFixtures,
  managementApi,
  randomPassword,
  randomUsername,
  show,
} from './lib/kit.mjs';
import { capturingSession, runBrowserSuite, runScenario, screenshots, undoSetup } from './lib/pages.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT_DIR = path.join(process.env.COMPAT_OUT_DIR || path.join(HERE, '..', 'out'), 'mfa-pages');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TIMEOUT = Number(process.env.COMPAT_BROWSER_TIMEOUT_MS || 15000);
const SCOPE = 'openid offline_access profile';

const suite = createSuite('mfa-pages');

const pathOf = (url) => new URL(url).pathname;

// The authenticator app: RFC 6238 defaults (SHA-1, 6 digits, 30 s), as Logto's.
const authenticator = (secret) => new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });

const main = async () => {
  const { issuer } = env();
  const fx = await suite.step('fixtures', () => loadFixtures());
  mkdirSync(OUT_DIR, { recursive: true });
  const mapi = managementApi();
  const cleanups = [];
  let browser;
  let completed = false;
  try {
    const username = randomUsername('compat_mfa');
    const password = randomPassword();
    const user = await suite.step('POST /api/users (a user of its own)', () =>
      mapi.request('POST', '/api/users', { body: { username, password } })
    );
    cleanups.push([
      `DELETE /api/users/${user.id}`,
      () => mapi.request('DELETE', `/api/users/${encodeURIComponent(user.id)}`, { expected: 204 }),
    ]);
    const previous = await suite.step('GET /api/sign-in-exp (kept for the restore)', () =>
      mapi.request('GET', '/api/sign-in-exp')
    );
    cleanups.push([
      'PATCH /api/sign-in-exp (restore mfa)',
      async () => {
        const restored = await mapi.request('PATCH', '/api/sign-in-exp', { body: { mfa: previous.mfa } });
        assertEqual(JSON.stringify(restored?.mfa), JSON.stringify(previous.mfa), 'restored mfa');
      },
    ]);
    await suite.step('PATCH /api/sign-in-exp (mfa: Totp + BackupCode, Mandatory)', async () => {
      const mfa = { ...previous.mfa, factors: ['Totp', 'BackupCode'], policy: 'Mandatory' };
      const updated = await mapi.request('PATCH', '/api/sign-in-exp', { body: { mfa } });
      assertEqual(updated?.mfa?.policy, 'Mandatory', 'mfa.policy after PATCH');
    });

    const config = await suite.step('openid-client discovery (client_secret_basic)', () =>
      client.discovery(new URL(issuer), fx.traditional.id, fx.traditional.secret,
        client.ClientSecretBasic(fx.traditional.secret), { execute: [client.allowInsecureRequests] })
    );
    const authorizationRequest = async () => {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: fx.redirectUri,
        scope: SCOPE,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        prompt: 'consent',
      });
      return { url: url.href, verifier, state, nonce };
    };
    const exchange = async (request, callbackUrl) => {
      const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
        pkceCodeVerifier: request.verifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
        idTokenExpected: true,
      });
      return tokens.claims();
    };

    browser = await suite.step(`launch headless Chromium (${CHROMIUM})`, async () => {
      assert(existsSync(CHROMIUM), `${CHROMIUM} not found (apt-get install -y chromium, or set CHROMIUM_PATH)`);
      const launched = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      console.log(`mfa-pages: Chromium ${launched.version()}`);
      return launched;
    });
    const screenshot = screenshots(OUT_DIR);
    const scenario = async (name, fn) => {
      const session = await capturingSession(browser, { redirectUri: fx.redirectUri, timeout: TIMEOUT });
      await runScenario({ suite, name, fn, session, outDir: OUT_DIR, tag: 'mfa-pages' });
    };

    // Signs in on /sign-in; returns the request and the page path it lands on.
    const passwordSignIn = async (page) => {
      const request = await authorizationRequest();
      await page.goto(request.url);
      assertEqual(pathOf(page.url()), '/sign-in', 'landing page path');
      await page.fill('input[name=identifier]', username);
      await page.fill('input[name=password]', password);
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      return request;
    };
    const finish = async (request, waitForCallback) => {
      const callbackUrl = await waitForCallback();
      assert(new URL(callbackUrl).searchParams.get('code'), `callback without code: ${callbackUrl}`);
      const claims = await exchange(request, callbackUrl);
      assertEqual(claims.sub, user.id, 'ID token sub');
    };

    let totp;
    let backupCodes;
    await scenario('(a) bind TOTP and save backup codes at sign-in', async ({ page, waitForCallback }) => {
      const request = await passwordSignIn(page);
      assertEqual(pathOf(page.url()), '/mfa-binding', 'page after the password');
      assertEqual(await page.locator('form[action^="/mfa-binding/skip"]').count(), 0, 'skip forms (mandatory)');
      await screenshot(page, 'mfa-binding');
      await Promise.all([page.waitForNavigation(), page.click('a[href^="/mfa-binding/Totp"]')]);
      assertEqual(pathOf(page.url()), '/mfa-binding/Totp', 'TOTP binding page');
      const qrWidth = await page.locator('img.qr').evaluate((img) => img.complete && img.naturalWidth);
      assert(qrWidth > 0, `the QR code image did not load (naturalWidth ${qrWidth})`);
      const secret = (await page.locator('#secret').innerText()).trim();
      assert(/^[A-Z2-7]{16,}$/.test(secret), `not a base32 key: ${show(secret)}`);
      assert(!page.url().includes(secret), 'the key is in the URL');
      totp = authenticator(secret);
      await screenshot(page, 'mfa-binding-totp');
      const right = totp.generate();
      await page.fill('input[name=code]', right === '000000' ? '111111' : '000000');
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      assertEqual(pathOf(page.url()), '/mfa-binding/Totp', 'page after a wrong code');
      assertEqual(await page.locator('input[name=code]').getAttribute('aria-invalid'), 'true', 'code aria-invalid');
      const error = (await page.locator('#code-error').innerText()).trim();
      assert(error, 'no message under the code field');
      assertEqual((await page.locator('#secret').innerText()).trim(), secret, 'the same key after a wrong code');
      await screenshot(page, 'mfa-binding-totp-wrong-code');
      await page.fill('input[name=code]', totp.generate());
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      assertEqual(pathOf(page.url()), '/mfa-binding/BackupCode', 'backup codes after TOTP');
      backupCodes = (await page.locator('#backup-codes code').allInnerTexts()).map((c) => c.trim());
      assertEqual(backupCodes.length, 10, 'backup codes shown');
      const download = await page.locator('#download-codes').getAttribute('href');
      assert(download.startsWith('data:text/plain'), `download link: ${show(download)}`);
      assert(decodeURIComponent(download).includes(backupCodes[9]), 'the download holds the codes');
      await screenshot(page, 'mfa-binding-backup-codes');
      await page.click('button[type=submit]');
      await finish(request, waitForCallback);
      const bound = await mapi.request('GET', `/api/users/${encodeURIComponent(user.id)}/mfa-verifications`);
      assertEqual(JSON.stringify(bound.map((v) => v.type).sort()), '["BackupCode","Totp"]', 'bound factors');
    });

    await scenario('(b) sign in again with a TOTP code', async ({ page, waitForCallback }) => {
      const request = await passwordSignIn(page);
      assertEqual(pathOf(page.url()), '/mfa-verification/Totp', 'page after the password');
      await screenshot(page, 'mfa-verification-totp');
      // The code that bound the app was used; the next time step's is accepted.
      await page.fill('input[name=code]', totp.generate({ timestamp: Date.now() + 30_000 }));
      await page.click('button[type=submit]');
      await finish(request, waitForCallback);
    });

    await scenario('(c) sign in with a backup code', async ({ page, waitForCallback }) => {
      const request = await passwordSignIn(page);
      assertEqual(pathOf(page.url()), '/mfa-verification/Totp', 'page after the password');
      await Promise.all([page.waitForNavigation(), page.click('a[href^="/mfa-verification/BackupCode"]')]);
      assertEqual(pathOf(page.url()), '/mfa-verification/BackupCode', 'backup code page');
      await screenshot(page, 'mfa-verification-backup-code');
      await page.fill('input[name=code]', backupCodes[0]);
      await page.click('button[type=submit]');
      await finish(request, waitForCallback);
    });
    console.log(`mfa-pages: screenshots in ${OUT_DIR}`);
    completed = true;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await undoSetup(suite, cleanups, completed);
  }
};

await runBrowserSuite(suite, main);
