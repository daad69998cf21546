// Shared helpers of the Node compat steps (rp-strict.mjs, hosted-pages.mjs,
// passwordless-pages.mjs):
//   * a tiny harness (same PASS/FAIL output as mapi.mjs),
//   * the fixtures of the run (compat/py/fixtures.py writes them; $KIDO_COMPAT_FIXTURES),
//   * a fetch-based "browser" with a cookie jar that honours Path, Max-Age and Expires,
//   * the Experience-API walk of real-clients.md Appendix B (same as compat/py/walk.py),
//   * the end-session confirmation form,
//   * a minimal Management API client (bootstrap credentials, client_secret_post): getUser and
//     a generic request.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const COMPAT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MANAGEMENT_API_INDICATOR = 'https://default.logto.app/api';
const MAX_HOPS = 12;

// ---------------------------------------------------------------------------------------------
// harness

export class CheckError extends Error {}

export const fail = (message) => {
  throw new CheckError(message);
};

export const assert = (condition, message) => {
  if (!condition) fail(message);
};

export const show = (value) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 600 ? `${text.slice(0, 600)}…` : text;
};

export const assertEqual = (actual, expected, what) =>
  assert(actual === expected, `${what}: expected ${show(expected)}, got ${show(actual)}`);

export const createSuite = (name) => {
  const suite = {
    name,
    current: '(setup)',
    passed: 0,
    async step(stepName, fn) {
      suite.current = stepName;
      const started = Date.now();
      const result = await fn();
      suite.passed += 1;
      console.log(`PASS ${name}: ${stepName} (${Date.now() - started} ms)`);
      return result;
    },
    async run(main) {
      try {
        await main(suite);
      } catch (error) {
        const reason = error instanceof CheckError ? error.message : describeError(error);
        console.error(`FAIL ${name}: ${suite.current}: ${reason}`);
        process.exit(1);
      }
      console.log(`PASS ${name}: all ${suite.passed} steps`);
    },
  };
  return suite;
};

// openid-client / oauth4webapi errors carry `error`, `error_description`, `status`, `cause`.
export const describeError = (error) => {
  if (!error || typeof error !== 'object') return String(error);
  const parts = [`${error.name ?? 'Error'}: ${error.message}`];
  if (error.code) parts.push(`code=${error.code}`);
  if (error.error) parts.push(`error=${error.error}`);
  if (error.error_description) parts.push(`error_description=${show(error.error_description)}`);
  if (error.status) parts.push(`status=${error.status}`);
  if (error.cause && !(error.cause instanceof Error)) parts.push(`cause=${show(error.cause)}`);
  else if (error.cause) parts.push(`cause=${error.cause.message}`);
  if (!(error instanceof CheckError) && error.stack) parts.push(`\n${error.stack}`);
  return parts.join(' ');
};

// Runs call() and expects it to throw an OAuth error with the given `error` code.
export const expectOAuthError = async (expected, what, call) => {
  let result;
  try {
    result = await call();
  } catch (error) {
    if (error instanceof CheckError) throw error;
    assertEqual(error?.error, expected, `${what}: error code (${describeError(error).split('\n')[0]})`);
    return error;
  }
  fail(`${what}: expected error ${expected}, but it succeeded: ${show(result)}`);
};

// ---------------------------------------------------------------------------------------------
// environment and fixtures

export const env = () => {
  const base = (process.env.KIDO_BASE ?? '').replace(/\/+$/, '');
  assert(base, 'KIDO_BASE is not set (compat/run sets it)');
  return { base, issuer: `${base}/oidc` };
};

// Fixtures of the run (see compat/py/fixtures.py for the shape). Created on the fly with the
// Python script when KIDO_COMPAT_FIXTURES is not set (running a step on its own).
export const loadFixtures = () => {
  const { base } = env();
  let file = process.env.KIDO_COMPAT_FIXTURES;
  let tempDir;
  if (!file) {
    console.log('note: KIDO_COMPAT_FIXTURES not set; creating fixtures with compat/py/fixtures.py');
    tempDir = mkdtempSync(path.join(tmpdir(), 'kido-fixtures-'));
    file = path.join(tempDir, 'fixtures.json');
    execFileSync(
      path.join(COMPAT_DIR, '.venv', 'bin', 'python'),
      [path.join(COMPAT_DIR, 'py', 'fixtures.py'), file],
      { stdio: 'inherit' }
    );
  }
  let fixtures;
  try {
    fixtures = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`cannot read fixtures ${file} (did the fixtures step fail?): ${error.message}`);
  } finally {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
  assertEqual(fixtures.base, base, `fixtures ${file} base`);
  return fixtures;
};

// ---------------------------------------------------------------------------------------------
// cookie jar + browser

const defaultPath = (pathname) => {
  // RFC 6265 §5.1.4 default-path: the request path up to (not including) its last '/'.
  if (!pathname.startsWith('/') || pathname.lastIndexOf('/') === 0) return '/';
  return pathname.slice(0, pathname.lastIndexOf('/'));
};

const pathMatches = (cookiePath, requestPath) =>
  requestPath === cookiePath ||
  (requestPath.startsWith(cookiePath) &&
    (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'));

export class CookieJar {
  constructor() {
    this.cookies = new Map(); // `${name}\0${path}` → {name, value, path, expires}
  }

  setCookie(requestUrl, header) {
    const url = new URL(requestUrl);
    const [pair, ...attributes] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let cookiePath = null;
    let maxAge = null;
    let expires = null;
    for (const attribute of attributes) {
      const index = attribute.indexOf('=');
      const key = (index < 0 ? attribute : attribute.slice(0, index)).trim().toLowerCase();
      const val = index < 0 ? '' : attribute.slice(index + 1).trim();
      if (key === 'path') cookiePath = val.startsWith('/') ? val : null;
      else if (key === 'max-age' && /^-?\d+$/.test(val)) maxAge = Number(val);
      else if (key === 'expires') {
        const time = Date.parse(val);
        if (!Number.isNaN(time)) expires = time;
      }
    }
    cookiePath ??= defaultPath(url.pathname);
    const expiry = maxAge !== null ? Date.now() + maxAge * 1000 : expires;
    const key = `${name}\0${cookiePath}`;
    if (expiry !== null && expiry <= Date.now()) {
      this.cookies.delete(key);
    } else {
      this.cookies.set(key, { name, value, path: cookiePath, expires: expiry });
    }
  }

  store(requestUrl, response) {
    for (const header of response.headers.getSetCookie()) this.setCookie(requestUrl, header);
  }

  header(requestUrl) {
    const { pathname } = new URL(requestUrl);
    const now = Date.now();
    const matching = [...this.cookies.values()]
      .filter((cookie) => (cookie.expires === null || cookie.expires > now) && pathMatches(cookie.path, pathname))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.map(({ name, value }) => `${name}=${value}`).join('; ');
  }

  names() {
    return [...this.cookies.values()].map(({ name, path: p }) => `${name} (Path=${p})`);
  }

  has(name) {
    return [...this.cookies.values()].some((cookie) => cookie.name === name);
  }
}

const isRedirect = (status) => [301, 302, 303, 307, 308].includes(status);

const sameTarget = (url, redirectUri) => {
  const a = new URL(url);
  const b = new URL(redirectUri);
  return a.origin === b.origin && a.pathname === b.pathname;
};

export const responseSummary = async (response) => {
  let body = '';
  try {
    body = await response.text();
  } catch {
    body = '<unreadable>';
  }
  return `HTTP ${response.status} (${response.headers.get('content-type') ?? 'no Content-Type'}) ${show(body)}`;
};

// A "browser": fetch with a cookie jar, never following redirects by itself.
export class Browser {
  constructor() {
    this.jar = new CookieJar();
  }

  async fetch(url, init = {}) {
    const headers = new Headers(init.headers ?? {});
    headers.set('user-agent', 'kido-compat/1.0 (node fetch; Experience-API walk)');
    const cookie = this.jar.header(url);
    if (cookie) headers.set('cookie', cookie);
    let response;
    try {
      response = await fetch(url, { ...init, headers, redirect: 'manual' });
    } catch (error) {
      fail(`${init.method ?? 'GET'} ${url} failed: ${error?.cause?.message ?? error?.message}`);
    }
    this.jar.store(url, response);
    return response;
  }

  async json(method, url, body) {
    return this.fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  // Follows redirects (GET) from url until a Location reaches redirectUri; returns that URL.
  async followTo(url, redirectUri) {
    const hops = [url];
    for (let i = 0; i < MAX_HOPS; i += 1) {
      if (sameTarget(url, redirectUri)) return url;
      const response = await this.fetch(url);
      if (!isRedirect(response.status)) {
        fail(
          `expected a redirect while walking to ${redirectUri}, got ${await responseSummary(response)} ` +
            `at ${url} (hops: ${hops.join(' -> ')})`
        );
      }
      const location = response.headers.get('location');
      assert(location, `redirect without Location at ${url}`);
      await response.body?.cancel();
      url = new URL(location, url).href;
      hops.push(url);
    }
    fail(`no redirect to ${redirectUri} after ${MAX_HOPS} hops: ${hops.join(' -> ')}`);
  }
}

const expectStatus = async (response, expected, what) => {
  const allowed = Array.isArray(expected) ? expected : [expected];
  if (!allowed.includes(response.status)) {
    fail(`${what}: expected HTTP ${allowed.join(' or ')}, got ${await responseSummary(response)}`);
  }
};

const readJson = async (response, what) => {
  const text = await response.text();
  const type = (response.headers.get('content-type') ?? '').toLowerCase();
  assert(
    /^application\/([a-z0-9.+-]+\+)?json\b/.test(type),
    `${what}: expected JSON, got HTTP ${response.status} ${type} ${show(text)}`
  );
  try {
    return JSON.parse(text);
  } catch {
    fail(`${what}: body is not JSON: ${show(text)}`);
  }
};

// ---------------------------------------------------------------------------------------------
// Experience-API walk (Appendix B)

// GET the authorization URL → 302/303 to the hosted page `expectedPage` (/sign-in, /register),
// which must answer 200 HTML. Returns the page URL.
export const openAuthorization = async (browser, authUrl, expectedPage) => {
  const response = await browser.fetch(authUrl);
  if (!isRedirect(response.status)) {
    fail(`GET /oidc/auth: expected a redirect to ${expectedPage}, got ${await responseSummary(response)}`);
  }
  const pageUrl = new URL(response.headers.get('location') ?? '', authUrl).href;
  const { pathname } = new URL(pageUrl);
  assert(
    pathname === expectedPage || pathname.startsWith(`${expectedPage}/`),
    `GET /oidc/auth redirected to ${pageUrl}, expected the hosted page ${expectedPage}`
  );
  assert(
    browser.jar.has('_interaction'),
    `GET /oidc/auth set no _interaction cookie (jar: ${browser.jar.names().join(', ')})`
  );
  const page = await browser.fetch(pageUrl);
  await expectStatus(page, 200, `GET ${pathname} (hosted page)`);
  assert(
    (page.headers.get('content-type') ?? '').toLowerCase().startsWith('text/html'),
    `GET ${pathname}: expected text/html, got ${page.headers.get('content-type')}`
  );
  await page.body?.cancel();
  return pageUrl;
};

const submit = async (browser, base) => {
  const response = await browser.fetch(`${base}/api/experience/submit`, { method: 'POST' });
  await expectStatus(response, 200, 'POST /api/experience/submit');
  const body = await readJson(response, 'POST /api/experience/submit');
  assert(typeof body?.redirectTo === 'string' && body.redirectTo, `submit: no redirectTo in ${show(body)}`);
  return new URL(body.redirectTo, `${base}/`).href;
};

export const experienceSignIn = async (browser, base, username, password) => {
  const api = `${base}/api/experience`;
  let response = await browser.json('PUT', api, { interactionEvent: 'SignIn' });
  await expectStatus(response, 204, 'PUT /api/experience {interactionEvent: SignIn}');
  response = await browser.json('POST', `${api}/verification/password`, {
    identifier: { type: 'username', value: username },
    password,
  });
  await expectStatus(response, 200, 'POST /api/experience/verification/password');
  const { verificationId } = await readJson(response, 'POST /api/experience/verification/password');
  assert(typeof verificationId === 'string' && verificationId, 'no verificationId');
  response = await browser.json('POST', `${api}/identification`, { verificationId });
  await expectStatus(response, 204, 'POST /api/experience/identification {verificationId}');
  return submit(browser, base);
};

// Authorization URL → /sign-in → Experience API → redirect_uri. Returns the callback URL.
export const signIn = async (browser, base, authUrl, redirectUri, username, password) => {
  await openAuthorization(browser, authUrl, '/sign-in');
  const redirectTo = await experienceSignIn(browser, base, username, password);
  return browser.followTo(redirectTo, redirectUri);
};

// ---------------------------------------------------------------------------------------------
// end-session confirmation form

const attributesOf = (text) => {
  const attributes = {};
  for (const match of text.matchAll(/([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    attributes[match[1].toLowerCase()] = match[2] ?? match[3] ?? match[4] ?? '';
  }
  return attributes;
};

const decodeEntities = (value) =>
  value
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');

// Parses the end-session page: returns {action, fields} of the form holding the hidden `xsrf`
// input and a submit control name=logout value=yes (inside the form or tied to it by `form=`).
export const parseLogoutForm = (html, pageUrl) => {
  const forms = [];
  const controls = [];
  let open = null;
  for (const match of html.matchAll(/<(\/?)(form|input|button)\b([^>]*)>/gi)) {
    const [, closing, tag, rest] = match;
    const lower = tag.toLowerCase();
    if (lower === 'form') {
      if (closing) open = null;
      else {
        forms.push(attributesOf(rest));
        open = forms.length - 1;
      }
    } else if (!closing) {
      const attributes = attributesOf(rest);
      for (const key of Object.keys(attributes)) attributes[key] = decodeEntities(attributes[key]);
      controls.push({ tag: lower, attributes, form: open });
    }
  }
  const formOf = (control) => {
    if (control.attributes.form) {
      const index = forms.findIndex((form) => form.id === control.attributes.form);
      return index < 0 ? null : index;
    }
    return control.form;
  };
  const xsrf = controls.find((control) => control.attributes.name === 'xsrf');
  assert(xsrf, `end-session page has no xsrf input: ${show(html)}`);
  assertEqual((xsrf.attributes.type ?? '').toLowerCase(), 'hidden', 'xsrf input type');
  const index = formOf(xsrf);
  assert(index !== null, 'the xsrf input belongs to no form');
  const form = forms[index];
  assertEqual((form.method ?? 'get').toLowerCase(), 'post', 'end-session form method');
  const logout = controls.find(
    (control) =>
      control.attributes.name === 'logout' && control.attributes.value === 'yes' && formOf(control) === index
  );
  assert(logout, `end-session form has no control name=logout value=yes: ${show(html)}`);
  const submitControl =
    (logout.tag === 'button' && (logout.attributes.type ?? 'submit').toLowerCase() === 'submit') ||
    (logout.tag === 'input' && (logout.attributes.type ?? '').toLowerCase() === 'submit');
  assert(submitControl, `logout=yes must be a submit control, got ${show(logout)}`);
  const fields = new URLSearchParams();
  for (const control of controls) {
    const { name, type, value } = control.attributes;
    if (formOf(control) === index && name && control.tag === 'input' && (type ?? '').toLowerCase() === 'hidden') {
      fields.append(name, value ?? '');
    }
  }
  fields.set('logout', 'yes');
  return { action: new URL(decodeEntities(form.action ?? ''), pageUrl).href, fields };
};

// GET the end-session URL (200 HTML form) → POST it with logout=yes → 303 to postLogoutRedirectUri.
export const signOut = async (browser, endSessionUrl, postLogoutRedirectUri) => {
  const page = await browser.fetch(endSessionUrl);
  await expectStatus(page, 200, 'GET end_session_endpoint');
  assert(
    (page.headers.get('content-type') ?? '').toLowerCase().startsWith('text/html'),
    `GET end_session_endpoint: expected text/html, got ${page.headers.get('content-type')}`
  );
  const { action, fields } = parseLogoutForm(await page.text(), endSessionUrl);
  assertEqual(new URL(action).pathname, '/oidc/session/end/confirm', 'end-session form action');
  const response = await browser.fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: fields.toString(),
  });
  await expectStatus(response, 303, 'POST /oidc/session/end/confirm');
  const location = new URL(response.headers.get('location') ?? '', action).href;
  assert(
    sameTarget(location, postLogoutRedirectUri),
    `end-session confirm redirected to ${location}, expected ${postLogoutRedirectUri}`
  );
  return location;
};

// ---------------------------------------------------------------------------------------------
// Management API (bootstrap credentials, read like mapi.mjs does)

export const managementApi = () => {
  const { base } = env();
  const credentialsPath = process.env.KIDO_BOOTSTRAP_CREDENTIALS;
  assert(credentialsPath, 'KIDO_BOOTSTRAP_CREDENTIALS is not set (compat/run sets it)');
  let bootstrap;
  try {
    bootstrap = JSON.parse(readFileSync(credentialsPath, 'utf8'));
  } catch (error) {
    fail(`cannot read ${credentialsPath}: ${error.message}`);
  }
  let token;
  const getToken = async () => {
    if (token) return token;
    const response = await fetch(`${base}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: bootstrap.clientId,
        client_secret: bootstrap.clientSecret,
        resource: MANAGEMENT_API_INDICATOR,
        scope: 'all',
      }).toString(),
    });
    await expectStatus(response, 200, 'Management API token');
    ({ access_token: token } = await readJson(response, 'Management API token'));
    return token;
  };
  return {
    async getUser(userId) {
      const response = await fetch(`${base}/api/users/${encodeURIComponent(userId)}`, {
        headers: { authorization: `Bearer ${await getToken()}` },
      });
      await expectStatus(response, 200, `GET /api/users/${userId}`);
      return readJson(response, `GET /api/users/${userId}`);
    },
    // Any Management API call (apiPath like '/api/connectors'): fails unless the status is one
    // of `expected`; returns the JSON body, or null when the body is empty (204).
    async request(method, apiPath, { body, expected = 200 } = {}) {
      const what = `${method} ${apiPath}`;
      const headers = { authorization: `Bearer ${await getToken()}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      let response;
      try {
        response = await fetch(`${base}${apiPath}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (error) {
        fail(`${what} failed: ${error?.cause?.message ?? error?.message}`);
      }
      await expectStatus(response, expected, what);
      if (response.status === 204 || response.headers.get('content-length') === '0') {
        await response.body?.cancel();
        return null;
      }
      return readJson(response, what);
    },
  };
};

// Usernames (Logto: ^[A-Z_a-z]\w*$) and passwords (upper, lower, digit, symbol; no runs of three
// equal or consecutive characters, for Logto's default password policy), unique per call.
export const randomUsername = (prefix) =>
  `${prefix}_${[...crypto.getRandomValues(new Uint8Array(5))].map((b) => b.toString(16).padStart(2, '0')).join('')}`;

export const randomPassword = () => {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%*+-=?@^_~';
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const candidate = [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
    const codes = [...candidate].map((c) => c.charCodeAt(0));
    let runs = false;
    for (let i = 2; i < codes.length; i += 1) {
      const [x, y, z] = [codes[i - 2], codes[i - 1], codes[i]];
      if ((x === y && y === z) || (y - x === z - y && Math.abs(y - x) === 1)) runs = true;
    }
    if (
      !runs &&
      /[a-z]/.test(candidate) &&
      /[A-Z]/.test(candidate) &&
      /\d/.test(candidate) &&
      /[^A-Za-z0-9]/.test(candidate)
    ) {
      return candidate;
    }
  }
};
