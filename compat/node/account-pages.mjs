// compat step: the account pages (/account) in a real headless Chromium (Debian `chromium` +
// playwright-core), with TOTP codes computed by an independent implementation (otpauth, pinned).
//
//   (a) another device: the fixtures' Traditional app signs the user in (offline_access) and
//       keeps a refresh token (openid-client);
//   (b) /account unsigned → the hosted sign-in of the built-in `account` client → back on
//       /account; "Verify it's you" with the password; the password changed (the old one no
//       longer verifies through the Management API, the new one does);
//   (c) an authenticator app added: the QR code image loads under the page's CSP, the key is read
//       off the page, a wrong code is refused with the same key shown again, the right one binds;
//   (d) the other device signed out ("Sign out this device"): its refresh token is refused at
//       /oidc/token at once.
//
// It creates its own user, PATCHes the account center and the sign-in experience's `mfa` and
// restores both, and deletes the user at the end. Screenshots in $COMPAT_OUT_DIR/account-pages/.
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
  expectOAuthError,
  loadFixtures,
  managementApi,
  randomPassword,
  randomUsername,
  show,
} from './lib/kit.mjs';
import { capturingSession, runBrowserSuite, runScenario, screenshots, undoSetup } from './lib/pages.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT_DIR = path.join(process.env.COMPAT_OUT_DIR || path.join(HERE, '..', 'out'), 'account-pages');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TIMEOUT = Number(process.env.COMPAT_BROWSER_TIMEOUT_MS || 15000);

const suite = createSuite('account-pages');

const pathOf = (url) => new URL(url).pathname;
const doneOf = (url) => new URL(url).searchParams.get('done');

const main = async () => {
  const { base, issuer } = env();
  const fx = await suite.step('fixtures', () => loadFixtures());
  mkdirSync(OUT_DIR, { recursive: true });
  const mapi = managementApi();
  const cleanups = [];
  let browser;
  let completed = false;
  try {
    const username = randomUsername('compat_account');
    let password = randomPassword();
    const user = await suite.step('POST /api/users (a user of its own)', () =>
      mapi.request('POST', '/api/users', { body: { username, password } })
    );
    cleanups.push([
      `DELETE /api/users/${user.id}`,
      () => mapi.request('DELETE', `/api/users/${encodeURIComponent(user.id)}`, { expected: 204 }),
    ]);
    const previousCenter = await suite.step('GET /api/account-center (kept for the restore)', () =>
      mapi.request('GET', '/api/account-center')
    );
    cleanups.push([
      'PATCH /api/account-center (restore)',
      () =>
        mapi.request('PATCH', '/api/account-center', {
          body: { enabled: previousCenter.enabled, fields: previousCenter.fields },
        }),
    ]);
    await suite.step('PATCH /api/account-center (enabled, every field Edit)', async () => {
      const fields = Object.fromEntries(
        ['name', 'avatar', 'username', 'email', 'phone', 'password', 'mfa', 'session'].map((f) => [f, 'Edit'])
      );
      const updated = await mapi.request('PATCH', '/api/account-center', { body: { enabled: true, fields } });
      assertEqual(updated?.fields?.session, 'Edit', 'fields.session after PATCH');
    });
    const previous = await suite.step('GET /api/sign-in-exp (kept for the restore)', () =>
      mapi.request('GET', '/api/sign-in-exp')
    );
    cleanups.push([
      'PATCH /api/sign-in-exp (restore mfa)',
      () => mapi.request('PATCH', '/api/sign-in-exp', { body: { mfa: previous.mfa } }),
    ]);
    await suite.step('PATCH /api/sign-in-exp (mfa: Totp + BackupCode, NoPrompt)', async () => {
      const mfa = { ...previous.mfa, factors: ['Totp', 'BackupCode'], policy: 'NoPrompt' };
      const updated = await mapi.request('PATCH', '/api/sign-in-exp', { body: { mfa } });
      assertEqual(updated?.mfa?.policy, 'NoPrompt', 'mfa.policy after PATCH');
    });

    const config = await suite.step('openid-client discovery (client_secret_basic)', () =>
      client.discovery(new URL(issuer), fx.traditional.id, fx.traditional.secret,
        client.ClientSecretBasic(fx.traditional.secret), { execute: [client.allowInsecureRequests] })
    );

    browser = await suite.step(`launch headless Chromium (${CHROMIUM})`, async () => {
      assert(existsSync(CHROMIUM), `${CHROMIUM} not found (apt-get install -y chromium, or set CHROMIUM_PATH)`);
      const launched = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      console.log(`account-pages: Chromium ${launched.version()}`);
      return launched;
    });
    const screenshot = screenshots(OUT_DIR);
    const session = async () => capturingSession(browser, { redirectUri: fx.redirectUri, timeout: TIMEOUT });
    // The hosted sign-in form; `wait` for the page it lands on (not when it leaves for the RP).
    const signInForm = async (page, wait = true) => {
      assertEqual(pathOf(page.url()), '/sign-in', 'sign-in page path');
      await page.fill('input[name=identifier]', username);
      await page.fill('input[name=password]', password);
      if (wait) await Promise.all([page.waitForURL((url) => url.pathname === '/account'), page.click('button[type=submit]')]);
      else await page.click('button[type=submit]');
    };

    let deviceRefreshToken;
    await runScenario({
      suite,
      name: '(a) another device signs in to the Traditional app (offline_access)',
      session: await session(),
      outDir: OUT_DIR,
      tag: 'account-pages',
      fn: async ({ page, waitForCallback }) => {
        const verifier = client.randomPKCECodeVerifier();
        const state = client.randomState();
        const url = client.buildAuthorizationUrl(config, {
          redirect_uri: fx.redirectUri,
          scope: 'openid offline_access profile',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
          prompt: 'consent',
        });
        await page.goto(url.href);
        await signInForm(page, false);
        const callbackUrl = await waitForCallback();
        const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
          pkceCodeVerifier: verifier,
          expectedState: state,
        });
        assert(tokens.refresh_token, 'no refresh token for offline_access');
        deviceRefreshToken = tokens.refresh_token;
        const refreshed = await client.refreshTokenGrant(config, deviceRefreshToken);
        deviceRefreshToken = refreshed.refresh_token || deviceRefreshToken;
      },
    });

    // One browser context for the account pages across (b)–(d). (A string hasNotText would match
    // "Sign out this device" too: Playwright's string matching ignores case.)
    const account = await session();
    const { page } = account;
    try {
      await suite.step('(b) sign in to /account, verify identity, change the password', async () => {
        await page.goto(`${base}/account`);
        await signInForm(page);
        assertEqual(pathOf(page.url()), '/account', 'page after signing in');
        const who = (await page.locator('#who').innerText()).trim();
        assert(who.includes(username), `signed in as ${show(who)}`);
        assertEqual(await page.locator('#password-form').count(), 0, 'password form before the proof');
        await screenshot(page, 'account');
        await page.fill('#verify-password', password);
        await Promise.all([page.waitForNavigation(), page.click('#verify-password-form button[type=submit]')]);
        assertEqual(doneOf(page.url()), 'verified', 'after the proof');
        const newPassword = randomPassword();
        await page.fill('#new-password', newPassword);
        await page.fill('#confirm-password', newPassword);
        await Promise.all([page.waitForNavigation(), page.click('#password-form button[type=submit]')]);
        assertEqual(doneOf(page.url()), 'password', 'after the change');
        const notice = (await page.locator('#notice').innerText()).trim();
        assert(notice, 'no notice after the change');
        await screenshot(page, 'account-password-changed');
        const verifyPath = `/api/users/${encodeURIComponent(user.id)}/password/verify`;
        await mapi.request('POST', verifyPath, { body: { password }, expected: 422 });
        await mapi.request('POST', verifyPath, { body: { password: newPassword }, expected: 204 });
        password = newPassword;
      });

      await suite.step('(c) add an authenticator app (QR code, wrong code, right code)', async () => {
        await Promise.all([page.waitForNavigation(), page.click('#add-totp')]);
        assertEqual(pathOf(page.url()), '/account/mfa/totp', 'TOTP page');
        const qrWidth = await page.locator('img.qr').evaluate((img) => img.complete && img.naturalWidth);
        assert(qrWidth > 0, `the QR code image did not load (naturalWidth ${qrWidth})`);
        const secret = (await page.locator('#secret').innerText()).trim();
        assert(/^[A-Z2-7]{16,}$/.test(secret), `not a base32 key: ${show(secret)}`);
        assert(!page.url().includes(secret), 'the key is in the URL');
        const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
        await screenshot(page, 'account-totp');
        const right = totp.generate();
        await page.fill('input[name=code]', right === '000000' ? '111111' : '000000');
        await Promise.all([page.waitForNavigation(), page.click('#totp-form button[type=submit]')]);
        assert((await page.locator('#error').innerText()).trim(), 'no message after a wrong code');
        assertEqual((await page.locator('#secret').innerText()).trim(), secret, 'the same key after a wrong code');
        await page.fill('input[name=code]', totp.generate());
        await Promise.all([page.waitForNavigation(), page.click('#totp-form button[type=submit]')]);
        assertEqual(doneOf(page.url()), 'factor-added', 'after the right code');
        const bound = await mapi.request('GET', `/api/users/${encodeURIComponent(user.id)}/mfa-verifications`);
        assertEqual(JSON.stringify(bound.map((v) => v.type)), '["Totp"]', 'bound factors');
        await screenshot(page, 'account-totp-added');
      });

      await suite.step('(d) sign out the other device; its refresh token is refused', async () => {
        const others = page.locator('li[id^="session-"]', { hasNotText: /This device/ });
        assertEqual(await others.count(), 1, 'other sessions listed');
        await Promise.all([page.waitForNavigation(), others.first().locator('button[type=submit]').click()]);
        assertEqual(doneOf(page.url()), 'session', 'after signing the device out');
        assertEqual(await page.locator('li[id^="session-"]', { hasNotText: /This device/ }).count(), 0,
          'other sessions after');
        await screenshot(page, 'account-session-ended');
        await expectOAuthError('invalid_grant', 'refresh after the device was signed out', () =>
          client.refreshTokenGrant(config, deviceRefreshToken)
        );
      });
    } catch (error) {
      await screenshot(page, 'failure').catch(() => {});
      console.error(`account-pages: failure screenshot in ${OUT_DIR} (page at ${page.url()})`);
      throw error;
    } finally {
      await account.context.close();
    }
    console.log(`account-pages: screenshots in ${OUT_DIR}`);
    completed = true;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await undoSetup(suite, cleanups, completed);
  }
};

await runBrowserSuite(suite, main);
