// compat step: the built-in Live Preview app (`/demo-app`) and its developer panel in a real
// headless Chromium (Debian `chromium` + playwright-core):
//   (a) /demo-app starts a sign-in by itself (authorization code + PKCE with client demo-app)
//       and lands on the hosted /sign-in page;
//   (b) after signing in as the fixture user, the panel shows the ID token claims (sub) and
//       userinfo (sub);
//   (c) "Sign-in parameters" asks for the fixture API and its scope and signs in again (silently,
//       the session is live); "Access token for a resource" → a JWT for that audience with the
//       scope the user's role grants;
//   (d) "Organization token" for an organization the user belongs to (created here through the
//       Management API, deleted at the end) → aud urn:logto:organization:<id>;
//   (e) "Sign out" → Kido's logout confirmation → back on /demo-app, which starts a new sign-in.
// Screenshots go to $COMPAT_OUT_DIR/demo-app/.
//
// Env: KIDO_BASE, KIDO_BOOTSTRAP_CREDENTIALS, KIDO_COMPAT_FIXTURES, CHROMIUM_PATH (default
// /usr/bin/chromium), COMPAT_OUT_DIR, COMPAT_BROWSER_TIMEOUT_MS (default 15000).

import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { assert, assertEqual, createSuite, env, fail, loadFixtures, managementApi, show } from './lib/kit.mjs';
import { runBrowserSuite, screenshots } from './lib/pages.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT_DIR = path.join(process.env.COMPAT_OUT_DIR || path.join(HERE, '..', 'out'), 'demo-app');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TIMEOUT = Number(process.env.COMPAT_BROWSER_TIMEOUT_MS || 15000);

const suite = createSuite('demo-app');

// The JSON a panel element shows once the script has filled it in.
const panelJson = async (page, id) => {
  const element = page.locator(`#${id}`);
  await element.waitFor({ state: 'visible' });
  await page.waitForFunction((el) => el.textContent.trim().length > 0, await element.elementHandle());
  const text = await element.textContent();
  try {
    return JSON.parse(text);
  } catch {
    fail(`#${id} does not hold JSON: ${show(text)}`);
  }
};

const main = async () => {
  const { base } = env();
  const fx = await suite.step('fixtures', () => loadFixtures());
  const mapi = managementApi();
  mkdirSync(OUT_DIR, { recursive: true });
  const screenshot = screenshots(OUT_DIR);

  const organization = await suite.step('an organization with the fixture user (Management API)', async () => {
    const org = await mapi.request('POST', '/api/organizations', { body: { name: 'Live Preview compat' }, expected: 201 });
    await mapi.request('POST', `/api/organizations/${org.id}/users`, { body: { userIds: [fx.user.id] }, expected: 201 });
    return org;
  });

  const browser = await suite.step(`launch headless Chromium (${CHROMIUM})`, async () => {
    assert(existsSync(CHROMIUM), `${CHROMIUM} not found (apt-get install -y chromium, or set CHROMIUM_PATH)`);
    return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  const context = await browser.newContext({ locale: 'en-US' });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // Browsers ask every origin for /favicon.ico on their own; that 404 is not the page's.
  page.on('console', (message) => {
    const url = message.location()?.url ?? '';
    if (message.type() === 'error' && !url.endsWith('/favicon.ico')) errors.push(`${message.text()} (${url})`);
  });

  try {
    await suite.step('(a) /demo-app starts a sign-in on its own → /sign-in', async () => {
      await page.goto(`${base}/demo-app`);
      await page.waitForURL((url) => url.pathname === '/sign-in');
      const url = new URL(page.url());
      assertEqual(url.searchParams.get('app_id'), 'demo-app', 'sign-in page app_id');
      await page.waitForSelector('input[name=identifier]');
    });

    await suite.step('(b) sign in → the panel shows the ID token claims and userinfo', async () => {
      await page.fill('input[name=identifier]', fx.user.username);
      await page.fill('input[name=password]', fx.user.password);
      await page.click('button[type=submit]');
      await page.waitForURL((url) => url.pathname === '/demo-app' && !url.search);
      const claims = await panelJson(page, 'claims');
      assertEqual(claims.sub, fx.user.id, 'ID token sub');
      assertEqual(claims.aud, 'demo-app', 'ID token aud');
      assertEqual(claims.iss, `${base}/oidc`, 'ID token iss');
      const userinfo = await panelJson(page, 'userinfo');
      assertEqual(userinfo.sub, fx.user.id, 'userinfo sub');
      assertEqual(userinfo.username, fx.user.username, 'userinfo username');
    });

    await suite.step('(c) sign in again asking for the fixture API → an access token for it', async () => {
      await page.fill('#config-resources', fx.resource.indicator);
      await page.fill('#config-scopes', fx.scope.name);
      await page.click('#config-form button[type=submit]');
      // The browser's session signs in again without a form: straight back to the panel.
      await page.waitForURL((url) => url.pathname === '/demo-app' && !url.search);
      assertEqual((await panelJson(page, 'claims')).sub, fx.user.id, 'ID token sub after signing in again');
      await page.fill('#resource', fx.resource.indicator);
      await page.click('#resource-form button[type=submit]');
      const answer = await panelJson(page, 'resource-token');
      assert(answer.claims, `no JWT for the resource: ${show(answer)}`);
      assertEqual(answer.claims.aud, fx.resource.indicator, 'resource token aud');
      assertEqual(answer.claims.sub, fx.user.id, 'resource token sub');
      assert(String(answer.scope).split(' ').includes(fx.scope.name), `resource token scope: ${show(answer.scope)}`);
    });

    await suite.step('(d) organization token', async () => {
      await page.fill('#organization', organization.id);
      await page.click('#organization-form button[type=submit]');
      const answer = await panelJson(page, 'organization-token');
      assert(answer.claims, `no organization JWT: ${show(answer)}`);
      assertEqual(answer.claims.aud, `urn:logto:organization:${organization.id}`, 'organization token aud');
      await screenshot(page, 'developer-panel');
    });

    await suite.step('(e) sign out → logout confirmation → /demo-app starts a new sign-in', async () => {
      await page.click('#sign-out');
      await page.waitForURL((url) => url.pathname === '/oidc/session/end');
      await page.click('button[type=submit]');
      await page.waitForURL((url) => url.pathname === '/sign-in');
      assertEqual(new URL(page.url()).searchParams.get('app_id'), 'demo-app', 'sign-in page app_id after sign-out');
      await page.waitForSelector('input[name=identifier]');
    });
    assertEqual(errors.length, 0, `script errors on the page: ${show(errors)}`);
  } catch (error) {
    await screenshot(page, 'failure').catch(() => {});
    console.error(`demo-app: failure at ${page.url()}`);
    throw error;
  } finally {
    await browser.close();
    await mapi.request('DELETE', `/api/organizations/${organization.id}`, { expected: 204 });
  }
};

await runBrowserSuite(suite, main);
