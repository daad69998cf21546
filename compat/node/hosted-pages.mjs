// compat step 8: Kido's hosted sign-in pages in a real headless Chromium (Debian `chromium` +
// playwright-core 1.65.1) — real-clients.md §9 step 8.
//
//   (c) ui_locales=ja → the sign-in page has <html lang="ja"> and the text サインイン;
//   (d) a wrong password shows an error (role="alert") and stays on /sign-in;
//   (a) sign-in: authorization URL of the Traditional app → /sign-in → fill identifier +
//       password → submit → the navigation to the redirect_uri is intercepted (page.route) →
//       code exchanged with openid-client → ID token sub = the fixture user;
//   (b) registration: first_screen=register → /register → username, password, confirm_password
//       (+ agree when present) → submit → redirect with a code → the user exists (Management API);
//   (e) magic link: a one-time token issued (Management API) for a user's email → the
//       authorization URL with one_time_token + login_hint → /sign-in → /one-time-token → the
//       redirect_uri with a code, nothing typed → ID token sub = that user; the same link again
//       → the "cannot be used" page (role="alert", a link to /sign-in, no token in its URL's
//       successors);
//   plus a 375 px wide (mobile) screenshot of the sign-in page.
//
// Every scenario runs in a fresh browser context (own cookies). Screenshots go to
// $COMPAT_OUT_DIR/hosted-pages/ (compat/run exports it), else compat/out/hosted-pages/.
//
// Env: KIDO_BASE, KIDO_BOOTSTRAP_CREDENTIALS, KIDO_COMPAT_FIXTURES, CHROMIUM_PATH (default
// /usr/bin/chromium), COMPAT_OUT_DIR, COMPAT_BROWSER_TIMEOUT_MS (default 15000).

import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

import * as client from 'openid-client';
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
import { capturingSession, runBrowserSuite, runScenario, screenshots } from './lib/pages.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT_DIR = path.join(process.env.COMPAT_OUT_DIR || path.join(HERE, '..', 'out'), 'hosted-pages');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TIMEOUT = Number(process.env.COMPAT_BROWSER_TIMEOUT_MS || 15000);
const SCOPE = 'openid offline_access profile';

const suite = createSuite('hosted-pages');

const pathOf = (url) => new URL(url).pathname;

const main = async () => {
  const { issuer } = env();
  const fx = await suite.step('fixtures', () => loadFixtures());
  mkdirSync(OUT_DIR, { recursive: true });

  const config = await suite.step('openid-client discovery (client_secret_basic)', () =>
    client.discovery(new URL(issuer), fx.traditional.id, fx.traditional.secret,
      client.ClientSecretBasic(fx.traditional.secret), { execute: [client.allowInsecureRequests] })
  );

  const authorizationRequest = async (extra = {}) => {
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
      ...extra,
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

  const browser = await suite.step(`launch headless Chromium (${CHROMIUM})`, async () => {
    assert(existsSync(CHROMIUM), `${CHROMIUM} not found (apt-get install -y chromium, or set CHROMIUM_PATH)`);
    const launched = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    console.log(`hosted-pages: Chromium ${launched.version()}`);
    return launched;
  });

  const screenshot = screenshots(OUT_DIR);

  // Runs a browser scenario in a fresh context whose navigations to the redirect_uri are
  // intercepted and recorded (lib/pages.mjs); on failure saves a screenshot before rethrowing.
  const scenario = async (name, fn, options = {}) => {
    const session = await capturingSession(browser, { ...options, redirectUri: fx.redirectUri, timeout: TIMEOUT });
    await runScenario({ suite, name, fn, session, outDir: OUT_DIR, tag: 'hosted-pages' });
  };

  try {
    // (c) Japanese UI
    await scenario('(c) ui_locales=ja → <html lang="ja">, サインイン', async ({ page }) => {
      const request = await authorizationRequest({ ui_locales: 'ja' });
      await page.goto(request.url);
      assertEqual(pathOf(page.url()), '/sign-in', 'landing page path');
      await page.waitForSelector('input[name=identifier]');
      assertEqual(await page.locator('html').getAttribute('lang'), 'ja', '<html lang>');
      const text = await page.locator('body').innerText();
      assert(text.includes('サインイン'), `the sign-in page has no "サインイン": ${show(text)}`);
      await screenshot(page, 'sign-in-ja');
    });

    // (d) wrong password
    await scenario('(d) wrong password → role="alert" error, stays on /sign-in', async ({ page, captured }) => {
      const request = await authorizationRequest();
      await page.goto(request.url);
      assertEqual(pathOf(page.url()), '/sign-in', 'landing page path');
      await page.fill('input[name=identifier]', fx.user.username);
      await page.fill('input[name=password]', `${fx.user.password}-wrong`);
      await page.click('button[type=submit]');
      const alert = page.locator('[role="alert"]').first();
      await alert.waitFor({ state: 'visible' });
      const message = (await alert.innerText()).trim();
      assert(message, 'the role="alert" element is empty');
      assertEqual(pathOf(page.url()), '/sign-in', 'page path after a wrong password');
      assertEqual(captured.length, 0, 'redirects to the redirect_uri after a wrong password');
      await screenshot(page, 'sign-in-wrong-password');
    });

    // (a) sign-in
    await scenario('(a) sign-in on /sign-in → redirect_uri with code → ID token sub', async ({ page, waitForCallback }) => {
      const request = await authorizationRequest();
      await page.goto(request.url);
      assertEqual(pathOf(page.url()), '/sign-in', 'landing page path');
      await screenshot(page, 'sign-in');
      await page.fill('input[name=identifier]', fx.user.username);
      await page.fill('input[name=password]', fx.user.password);
      await page.click('button[type=submit]');
      const callbackUrl = await waitForCallback();
      const params = new URL(callbackUrl).searchParams;
      assert(params.get('code'), `callback without code: ${callbackUrl}`);
      assertEqual(params.get('iss'), issuer, 'callback iss');
      const claims = await exchange(request, callbackUrl);
      assertEqual(claims.sub, fx.user.id, 'ID token sub');
    });

    // (b) registration
    await scenario('(b) first_screen=register → /register → new user → code', async ({ page, waitForCallback }) => {
      const username = randomUsername('compat_browser');
      const password = randomPassword();
      const request = await authorizationRequest({ first_screen: 'register' });
      await page.goto(request.url);
      assertEqual(pathOf(page.url()), '/register', 'landing page path');
      await page.fill('input[name=username]', username);
      await page.fill('input[name=password]', password);
      await page.fill('input[name=confirm_password]', password);
      if ((await page.locator('input[name=agree]').count()) > 0) await page.check('input[name=agree]');
      await screenshot(page, 'register');
      await page.click('button[type=submit]');
      const callbackUrl = await waitForCallback();
      assert(new URL(callbackUrl).searchParams.get('code'), `callback without code: ${callbackUrl}`);
      const claims = await exchange(request, callbackUrl);
      assert(claims.sub !== fx.user.id, 'registration signed in the fixture user instead of a new one');
      const user = await managementApi().getUser(claims.sub);
      assertEqual(user.username, username, 'registered user username (GET /api/users/{id})');
    });

    // (e) magic link
    await scenario('(e) magic link → signed in with nothing typed; used again → error page', async ({ page, waitForCallback, captured }) => {
      const mapi = managementApi();
      const email = `${randomUsername('magic')}@example.com`;
      const user = await mapi.request('POST', '/api/users', { body: { primaryEmail: email } });
      try {
        const { token } = await mapi.request('POST', '/api/one-time-tokens', { body: { email }, expected: 201 });
        const request = await authorizationRequest({ one_time_token: token, login_hint: email });
        // The redirect chain ends at the redirect_uri, where nothing listens: the navigation
        // itself fails; the request event has recorded the callback.
        await page.goto(request.url).catch(() => {});
        const callbackUrl = await waitForCallback();
        const claims = await exchange(request, callbackUrl);
        assertEqual(claims.sub, user.id, 'ID token sub');
        const again = await authorizationRequest({ one_time_token: token, login_hint: email });
        const before = captured.length;
        // A new tab: the first one is still settling on its failed last hop.
        const tab = await page.context().newPage();
        await tab.goto(again.url);
        assertEqual(pathOf(tab.url()), '/one-time-token', 'the landing shows why');
        const alert = tab.locator('[role="alert"]').first();
        await alert.waitFor({ state: 'visible' });
        assert((await alert.innerText()).trim(), 'the role="alert" element is empty');
        const link = await tab.locator('a[href^="/sign-in"]').getAttribute('href');
        assert(link && !link.includes(token), `the way to sign in carries no token: ${show(link)}`);
        assertEqual(captured.length, before, 'redirects to the redirect_uri with a used token');
        await screenshot(tab, 'magic-link-used');
      } finally {
        await mapi.request('DELETE', `/api/users/${encodeURIComponent(user.id)}`, { expected: 204 }).catch(() => {});
      }
    });

    // mobile screenshot
    await scenario(
      'mobile (375 px) screenshot of /sign-in',
      async ({ page }) => {
        const request = await authorizationRequest();
        await page.goto(request.url);
        assertEqual(pathOf(page.url()), '/sign-in', 'landing page path');
        await page.waitForSelector('input[name=identifier]');
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        if (width > 375) console.log(`note hosted-pages: /sign-in is ${width}px wide in a 375px viewport (horizontal scroll)`);
        const file = await screenshot(page, 'sign-in-mobile-375');
        console.log(`hosted-pages: screenshots in ${path.dirname(file)}`);
      },
      { viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }
    );
  } finally {
    await browser.close();
  }
};

await runBrowserSuite(suite, main);
