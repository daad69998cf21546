// compat step: passwordless registration, sign-in by code and password reset on Kido's hosted
// pages, in a real headless Chromium (Debian `chromium` + playwright-core 1.65.1), with the codes
// read from a loopback SMTP server this script runs itself (node:net, a tiny ESMTP server).
//
// Setup (Management API, bootstrap credentials): an SMTP email connector pointing at that server
// (POST /api/connectors, simple-mail-transfer-protocol, AUTH kido/pw) and a sign-in experience
// with email sign-up (password + verification), email sign-in by password or code, username
// sign-in by password and password reset by email code (PATCH /api/sign-in-exp). At the end,
// whatever happened, the previous signUp / signIn / forgotPasswordMethods are PATCHed back and
// the connector is deleted, so the later steps see the tenant as it was.
//
//   (a) ui_locales=ja, first_screen=register → /register (<html lang="ja">) → email → code page
//       → the mail to that address carries a code → a wrong code shows role="alert" → the right
//       code → /register/profile → password twice → the navigation to the redirect_uri is
//       intercepted → code exchanged with openid-client → ID token email = the address;
//   (b) /sign-in → "Sign in with a verification code" → email of (a) → mailed code → redirect →
//       ID token sub = (a)'s user;
//   (c) ui_locales=zh-TW: /sign-in → "Forgot your password?" → email of (a) → mailed code →
//       /forgot-password/reset → new password twice → 200 page titled 密碼已變更 with a link back
//       to /sign-in; then, in a fresh context, the new password signs in on /sign-in, and the
//       Management API refuses the old one (POST /api/users/{id}/password/verify → 422);
//   (d) the same reset flow for an unknown email lands on the same code page as (c) (no hint
//       whether the account exists), and no mail is sent to that address within 1.5 s.
//
// Every scenario runs in a fresh browser context (own cookies) and uses the fixtures'
// Traditional app and redirect URI. The SMTP server sees the mails of every scenario; they are
// matched by recipient (each scenario has its own pl-<random>@kido.test address). Screenshots go
// to $COMPAT_OUT_DIR/passwordless-pages/ (compat/run exports it), else
// compat/out/passwordless-pages/.
//
// Env: KIDO_BASE, KIDO_BOOTSTRAP_CREDENTIALS, KIDO_COMPAT_FIXTURES, CHROMIUM_PATH (default
// /usr/bin/chromium), COMPAT_OUT_DIR, COMPAT_BROWSER_TIMEOUT_MS (default 15000).

import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import * as client from 'openid-client';
import { chromium } from 'playwright-core';

import {
  assert,
  assertEqual,
  CheckError,
  createSuite,
  env,
  fail,
  loadFixtures,
  managementApi,
  randomPassword,
  show,
} from './lib/kit.mjs';
import { capturingSession, runBrowserSuite, runScenario, screenshots, undoSetup } from './lib/pages.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT_DIR = path.join(process.env.COMPAT_OUT_DIR || path.join(HERE, '..', 'out'), 'passwordless-pages');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TIMEOUT = Number(process.env.COMPAT_BROWSER_TIMEOUT_MS || 15000);
const SCOPE = 'openid offline_access profile email';
const SMTP_USER = 'kido';
const SMTP_PASS = 'pw';
const QUIET_MS = 1500;

const SUBJECTS = {
  SignIn: 'Sign-in code',
  Register: 'Register code',
  ForgotPassword: 'Reset code',
  Generic: 'Verification code',
};

const PASSWORD_CHANGED = { en: 'Password changed', ja: 'パスワードを変更しました', 'zh-TW': '密碼已變更' };

// Email sign-up with a password, email sign-in by password or code, username sign-in by
// password (the fixture user), reset by email code.
const EMAIL_EXPERIENCE = {
  signUp: { identifiers: ['email'], password: true, verify: true },
  signIn: {
    methods: [
      { identifier: 'email', password: true, verificationCode: true, isPasswordPrimary: true },
      { identifier: 'username', password: true, verificationCode: false, isPasswordPrimary: true },
    ],
  },
  forgotPasswordMethods: ['EmailVerificationCode'],
};

const suite = createSuite('passwordless-pages');

const pathOf = (url) => new URL(url).pathname;

const randomEmail = () =>
  `pl-${[...crypto.getRandomValues(new Uint8Array(6))].map((b) => b.toString(16).padStart(2, '0')).join('')}@kido.test`;

// The code with its last digit changed.
const wrongCode = (code) => `${code.slice(0, 5)}${(Number(code[5]) + 1) % 10}`;

// ---------------------------------------------------------------------------------------------
// loopback SMTP server

// `text` holds bytes as latin1 characters (one char per byte); the result is UTF-8 decoded.
const utf8 = (text) => Buffer.from(text, 'latin1').toString('utf8');

const decodeQuotedPrintable = (text) => {
  const raw = Buffer.from(text.replace(/=\r?\n/g, ''), 'latin1');
  const bytes = [];
  for (let i = 0; i < raw.length; i += 1) {
    if (raw[i] === 0x3d && i + 2 < raw.length) {
      const hex = raw.subarray(i + 1, i + 3).toString('latin1');
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
        continue;
      }
    }
    bytes.push(raw[i]);
  }
  return Buffer.from(bytes).toString('utf8');
};

// RFC 2047 encoded words (=?utf-8?B?…?= / =?utf-8?Q?…?=) in a header value.
const decodeWords = (value) =>
  value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset, encoding, text) => {
      const bytes =
        encoding.toUpperCase() === 'B'
          ? Buffer.from(text, 'base64')
          : Buffer.from(decodeQuotedPrintable(text.replaceAll('_', ' ')), 'utf8');
      try {
        return new TextDecoder(charset).decode(bytes);
      } catch {
        return bytes.toString('utf8');
      }
    });

// Parses one DATA payload (CRLF lines, dot-stuffing already undone).
const parseMessage = (data) => {
  const split = data.indexOf('\r\n\r\n');
  const head = split < 0 ? data : data.slice(0, split);
  const rawBody = split < 0 ? '' : data.slice(split + 4);
  const headers = {};
  let last = null;
  for (const line of head.split('\r\n')) {
    if (/^[ \t]/.test(line) && last) {
      headers[last] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    // The first occurrence wins (Received-style duplicates do not matter here).
    if (headers[last] === undefined) headers[last] = line.slice(colon + 1).trim();
    else last = null;
  }
  for (const key of Object.keys(headers)) headers[key] = decodeWords(utf8(headers[key]));
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  let body;
  if (encoding === 'base64') body = Buffer.from(rawBody.replace(/\s+/g, ''), 'base64').toString('utf8');
  else if (encoding === 'quoted-printable') body = decodeQuotedPrintable(rawBody);
  else body = utf8(rawBody);
  const code = /(?<!\d)\d{6}(?!\d)/.exec(body)?.[0] ?? null;
  return { headers, subject: headers.subject ?? '', body, code };
};

// A tiny ESMTP server on 127.0.0.1 (free port): any credentials, every message accepted.
// nextMail(timeoutMs, to) returns the next not yet taken message to `to` (any recipient when
// omitted); mailsTo(to) lists every message received for an address.
const startSmtpServer = () =>
  new Promise((resolve, reject) => {
    const messages = []; // {auth, from, to: [..], subject, body, code, headers, taken}
    const waiters = new Set();
    const sockets = new Set();
    const matches = (mail, to) => !to || mail.to.some((address) => address.toLowerCase() === to.toLowerCase());
    const notify = () => {
      for (const waiter of [...waiters]) waiter();
    };

    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      socket.setEncoding('latin1');
      const reply = (line) => {
        if (!socket.destroyed) socket.write(`${line}\r\n`);
      };
      let buffer = '';
      let mode = 'command'; // data | auth-plain | auth-login-user | auth-login-pass
      let auth = null;
      let loginUser = '';
      let envelope = { from: '', to: [] };
      let data = [];

      const handle = (line) => {
        if (mode === 'data') {
          if (line === '.') {
            mode = 'command';
            const mail = { auth, from: envelope.from, to: envelope.to, taken: false, ...parseMessage(data.join('\r\n')) };
            envelope = { from: '', to: [] };
            data = [];
            messages.push(mail);
            reply('250 2.0.0 OK queued');
            notify();
          } else {
            data.push(line.startsWith('.') ? line.slice(1) : line);
          }
          return;
        }
        if (mode === 'auth-plain') {
          mode = 'command';
          const [, user = '', pass = ''] = Buffer.from(line.trim(), 'base64').toString('utf8').split('\0');
          auth = `${user}:${pass}`;
          reply('235 2.7.0 Authentication successful');
          return;
        }
        if (mode === 'auth-login-user') {
          loginUser = Buffer.from(line.trim(), 'base64').toString('utf8');
          mode = 'auth-login-pass';
          reply('334 UGFzc3dvcmQ6');
          return;
        }
        if (mode === 'auth-login-pass') {
          mode = 'command';
          auth = `${loginUser}:${Buffer.from(line.trim(), 'base64').toString('utf8')}`;
          reply('235 2.7.0 Authentication successful');
          return;
        }
        const upper = line.toUpperCase();
        if (upper.startsWith('EHLO') || upper.startsWith('HELO')) {
          socket.write('250-kido-compat\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n');
        } else if (upper.startsWith('AUTH PLAIN')) {
          const initial = line.split(/\s+/)[2];
          if (initial) {
            const [, user = '', pass = ''] = Buffer.from(initial, 'base64').toString('utf8').split('\0');
            auth = `${user}:${pass}`;
            reply('235 2.7.0 Authentication successful');
          } else {
            mode = 'auth-plain';
            reply('334 ');
          }
        } else if (upper.startsWith('AUTH LOGIN')) {
          const initial = line.split(/\s+/)[2];
          if (initial) {
            loginUser = Buffer.from(initial, 'base64').toString('utf8');
            mode = 'auth-login-pass';
            reply('334 UGFzc3dvcmQ6');
          } else {
            mode = 'auth-login-user';
            reply('334 VXNlcm5hbWU6');
          }
        } else if (upper.startsWith('MAIL FROM:')) {
          envelope = { from: line.slice(10).trim().split(/\s+/)[0].replace(/^<|>$/g, ''), to: [] };
          reply('250 2.1.0 OK');
        } else if (upper.startsWith('RCPT TO:')) {
          envelope.to.push(line.slice(8).trim().split(/\s+/)[0].replace(/^<|>$/g, ''));
          reply('250 2.1.5 OK');
        } else if (upper === 'DATA') {
          mode = 'data';
          data = [];
          reply('354 End data with <CR><LF>.<CR><LF>');
        } else if (upper === 'RSET') {
          envelope = { from: '', to: [] };
          reply('250 2.0.0 OK');
        } else if (upper === 'QUIT') {
          reply('221 2.0.0 Bye');
          socket.end();
        } else {
          reply('250 OK');
        }
      };

      socket.on('data', (chunk) => {
        buffer += chunk;
        let index;
        while ((index = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, index).replace(/\r$/, '');
          buffer = buffer.slice(index + 1);
          handle(line);
        }
      });
      reply('220 kido-compat ESMTP');
    });

    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      server.unref();
      const { port } = server.address();
      const received = () =>
        messages.length === 0
          ? 'nothing'
          : messages.map((m) => `${m.to.join(',')} ${show(m.subject)}${m.taken ? ' (taken)' : ''}`).join('; ');
      resolve({
        port,
        mailsTo: (to) => messages.filter((mail) => matches(mail, to)),
        nextMail(timeoutMs, to) {
          return new Promise((resolveMail, rejectMail) => {
            let timer;
            const check = () => {
              const mail = messages.find((m) => !m.taken && matches(m, to));
              if (!mail) return false;
              mail.taken = true;
              waiters.delete(check);
              clearTimeout(timer);
              resolveMail(mail);
              return true;
            };
            if (check()) return;
            waiters.add(check);
            timer = setTimeout(() => {
              waiters.delete(check);
              rejectMail(
                new CheckError(
                  `no mail to ${to ?? 'anyone'} reached the SMTP server 127.0.0.1:${port} within ${timeoutMs} ms ` +
                    `(received so far: ${received()})`
                )
              );
            }, timeoutMs);
          });
        },
        close() {
          for (const socket of sockets) socket.destroy();
          return new Promise((done) => server.close(() => done()));
        },
      });
    });
  });

// ---------------------------------------------------------------------------------------------

const main = async () => {
  const { issuer } = env();
  const fx = await suite.step('fixtures', () => loadFixtures());
  mkdirSync(OUT_DIR, { recursive: true });
  const mapi = managementApi();

  // Undo actions, run in reverse order in the finally below.
  const cleanups = [];
  let smtp;
  let browser;
  let completed = false;
  try {
    smtp = await suite.step('loopback SMTP server', async () => {
      const started = await startSmtpServer();
      console.log(`passwordless-pages: SMTP server on 127.0.0.1:${started.port}`);
      return started;
    });

    const connector = await suite.step('POST /api/connectors (SMTP connector → loopback server)', async () => {
      const before = await mapi.request('GET', '/api/connectors');
      const email = (Array.isArray(before) ? before : []).filter((c) => c?.type === 'Email');
      if (email.length > 0) {
        console.log(
          `note passwordless-pages: the email connector(s) ${email.map((c) => c.id).join(', ')} will be ` +
            'replaced and are not restored afterwards'
        );
      }
      const template = (usageType) => ({
        usageType,
        contentType: 'text/plain',
        subject: SUBJECTS[usageType],
        content: 'Code {{code}}',
      });
      const created = await mapi.request('POST', '/api/connectors', {
        body: {
          connectorId: 'simple-mail-transfer-protocol',
          config: {
            host: '127.0.0.1',
            port: smtp.port,
            auth: { user: SMTP_USER, pass: SMTP_PASS },
            fromEmail: 'noreply@kido.test',
            templates: ['SignIn', 'Register', 'ForgotPassword', 'Generic'].map(template),
          },
        },
      });
      assert(typeof created?.id === 'string' && created.id, `POST /api/connectors: no id in ${show(created)}`);
      return created;
    });
    cleanups.push([
      `DELETE /api/connectors/${connector.id}`,
      () => mapi.request('DELETE', `/api/connectors/${encodeURIComponent(connector.id)}`, { expected: 204 }),
    ]);

    const previous = await suite.step('GET /api/sign-in-exp (kept for the restore)', () =>
      mapi.request('GET', '/api/sign-in-exp')
    );
    const restorePatch = {
      signUp: previous.signUp,
      signIn: previous.signIn,
      forgotPasswordMethods: previous.forgotPasswordMethods ?? [],
    };
    cleanups.push([
      'PATCH /api/sign-in-exp (restore signUp, signIn, forgotPasswordMethods)',
      async () => {
        const restored = await mapi.request('PATCH', '/api/sign-in-exp', { body: restorePatch });
        for (const key of Object.keys(restorePatch)) {
          assertEqual(JSON.stringify(restored?.[key]), JSON.stringify(restorePatch[key]), `restored ${key}`);
        }
      },
    ]);
    await suite.step('PATCH /api/sign-in-exp (email sign-up, code sign-in, reset by email)', async () => {
      const updated = await mapi.request('PATCH', '/api/sign-in-exp', { body: EMAIL_EXPERIENCE });
      assertEqual(JSON.stringify(updated?.signUp?.identifiers), '["email"]', 'signUp.identifiers after PATCH');
      assertEqual(
        JSON.stringify(updated?.forgotPasswordMethods),
        JSON.stringify(EMAIL_EXPERIENCE.forgotPasswordMethods),
        'forgotPasswordMethods after PATCH'
      );
    });

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
      const params = new URL(callbackUrl).searchParams;
      assert(params.get('code'), `callback without code: ${callbackUrl}`);
      assertEqual(params.get('iss'), issuer, 'callback iss');
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
      console.log(`passwordless-pages: Chromium ${launched.version()}`);
      return launched;
    });

    // -------------------------------------------------------------------------------------------
    // page helpers

    // "page at <url>, h1 "…", alert "…"": where the browser is, for failure messages.
    const describePage = async (page) => {
      const parts = [`page at ${page.url()}`];
      try {
        const h1 = page.locator('h1').first();
        const text = (await h1.count()) > 0 ? (await h1.innerText({ timeout: 1000 })).trim() : '';
        if (text) parts.push(`h1 ${show(text)}`);
      } catch {
        // the page may be gone
      }
      try {
        const alerts = (await page.locator('[role="alert"]').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
        if (alerts.length > 0) parts.push(`alert ${show(alerts.join(' | '))}`);
      } catch {
        // the page may be gone
      }
      return parts.join(', ');
    };

    const expectPath = async (page, expected, what) => {
      const actual = pathOf(page.url());
      if (actual !== expected) fail(`${what}: expected ${expected}, ${await describePage(page)}`);
    };

    const expectLang = async (page, expected, what) => {
      const lang = await page.locator('html').getAttribute('lang');
      if (lang !== expected) {
        fail(`${what}: expected <html lang="${expected}">, got ${show(lang)} (${await describePage(page)})`);
      }
    };

    // Runs action (a click that navigates) and waits for the next document to load.
    const navigate = async (page, what, action) => {
      const loaded = page.waitForEvent('load', { timeout: TIMEOUT });
      loaded.catch(() => {});
      try {
        await action();
        await loaded;
      } catch (error) {
        if (error instanceof CheckError) throw error;
        fail(`${what}: ${String(error?.message ?? error).split('\n')[0]} (${await describePage(page)})`);
      }
    };

    const SUBMIT = 'button[type=submit], button:not([type]), input[type=submit]';

    // The first form holding an input named `field`.
    const formWith = async (page, field, what) => {
      const form = page.locator('form').filter({ has: page.locator(`input[name="${field}"]`) }).first();
      if ((await form.count()) === 0) fail(`${what}: no form with an input name=${field} (${await describePage(page)})`);
      return form;
    };

    const submitButton = async (page, form, what) => {
      const button = form.locator(SUBMIT).first();
      if ((await button.count()) === 0) fail(`${what}: the form has no submit button (${await describePage(page)})`);
      return button;
    };

    // Fills `fields` in the form holding the first of them and submits it, waiting for the next
    // page (navigate) or not (when the submit leads to the redirect_uri).
    const fillAndSubmit = async (page, fields, what, { wait = true } = {}) => {
      const names = Object.keys(fields);
      const form = await formWith(page, names[0], what);
      for (const name of names) await form.locator(`input[name="${name}"]`).fill(fields[name]);
      const agree = form.locator('input[name="agree"]');
      if ((await agree.count()) > 0) await agree.check();
      const button = await submitButton(page, form, what);
      if (wait) await navigate(page, what, () => button.click());
      else await button.click();
    };

    const clickLink = async (page, hrefPrefix, what) => {
      const link = page.locator(`a[href^="${hrefPrefix}"]`).first();
      if ((await link.count()) === 0) fail(`${what}: no link with href starting ${hrefPrefix} (${await describePage(page)})`);
      await navigate(page, what, () => link.click());
    };

    const expectAlert = async (page, what) => {
      const alert = page.locator('[role="alert"]').first();
      try {
        await alert.waitFor({ state: 'visible', timeout: TIMEOUT });
      } catch {
        fail(`${what}: no visible role="alert" element (${await describePage(page)})`);
      }
      const message = (await alert.innerText()).trim();
      assert(message, `${what}: the role="alert" element is empty (${await describePage(page)})`);
      return message;
    };

    const visibleAlerts = async (page) => {
      let count = 0;
      for (const alert of await page.locator('[role="alert"]').all()) if (await alert.isVisible()) count += 1;
      return count;
    };

    // The body text with the address and digit runs neutralised, to compare two code pages.
    const codePageShape = async (page) =>
      (await page.locator('body').innerText())
        .replace(/\S*@kido\.test\S*/g, '<email>')
        .replace(/\d+/g, '#')
        .replace(/\s+/g, ' ')
        .trim();

    const nextMail = async (to, usageType, what) => {
      const mail = await smtp.nextMail(TIMEOUT, to);
      assertEqual(mail.subject, SUBJECTS[usageType], `${what}: subject of the mail to ${to} (${usageType} template)`);
      assertEqual(mail.auth, `${SMTP_USER}:${SMTP_PASS}`, `${what}: SMTP AUTH credentials`);
      assert(mail.code, `${what}: no 6-digit code in the mail to ${to}: ${show(mail.body)}`);
      return mail.code;
    };

    const screenshot = screenshots(OUT_DIR);

    // Runs a browser scenario in a fresh context whose navigations to the redirect_uri are
    // intercepted and recorded (lib/pages.mjs); on failure saves a screenshot before rethrowing.
    const scenario = async (name, fn, options = {}) => {
      const session = await capturingSession(browser, {
        ...options,
        redirectUri: fx.redirectUri,
        timeout: TIMEOUT,
        describe: describePage,
      });
      await runScenario({ suite, name, fn, session, outDir: OUT_DIR, tag: 'passwordless-pages', describe: describePage });
    };

    // -------------------------------------------------------------------------------------------
    // scenarios

    const user = { email: randomEmail(), password: randomPassword(), sub: null };
    let resetCodePage = null; // (c)'s code page, compared with (d)'s

    // (a) registration by email code, Japanese
    const stepA = '(a) ja: /register → email → wrong code, right code → /register/profile → ID token email';
    await scenario(stepA, async ({ page, waitForCallback }) => {
      const request = await authorizationRequest({ ui_locales: 'ja', first_screen: 'register' });
      await page.goto(request.url);
      await expectPath(page, '/register', 'landing page (first_screen=register)');
      await expectLang(page, 'ja', '/register');
      await screenshot(page, 'register-email-ja');
      await fillAndSubmit(page, { identifier: user.email }, 'submit the email on /register');
      await expectPath(page, '/register/verification-code/verify', 'page after submitting the email');
      await expectLang(page, 'ja', 'register code page');
      const code = await nextMail(user.email, 'Register', 'registration');
      await screenshot(page, 'register-code-ja');

      await fillAndSubmit(page, { code: wrongCode(code) }, 'submit a wrong code');
      const message = await expectAlert(page, 'after a wrong code');
      const afterWrong = pathOf(page.url());
      assert(
        afterWrong.startsWith('/register/verification-code'),
        `after a wrong code: expected the code page again, ${await describePage(page)}`
      );
      assert(
        (await page.locator('input[name="code"]').count()) > 0,
        `after a wrong code: no code input (${await describePage(page)})`
      );
      console.log(`passwordless-pages: wrong code → ${show(message)}`);
      await screenshot(page, 'register-code-wrong-ja');

      await fillAndSubmit(page, { code }, 'submit the right code');
      await expectPath(page, '/register/profile', 'page after the right code (a password is required)');
      await expectLang(page, 'ja', '/register/profile');
      await screenshot(page, 'register-profile-ja');
      await fillAndSubmit(page, { password: user.password, confirm_password: user.password }, 'submit the password', {
        wait: false,
      });
      const claims = await exchange(request, await waitForCallback());
      assertEqual(claims.email, user.email, 'ID token email');
      assert(claims.sub && claims.sub !== fx.user.id, `ID token sub ${show(claims.sub)} is not a new user`);
      const created = await mapi.getUser(claims.sub);
      assertEqual(created.primaryEmail, user.email, 'registered user primaryEmail (GET /api/users/{id})');
      user.sub = claims.sub;
    });

    // (b) sign-in by email code, English
    await scenario('(b) en: /sign-in → code link → email → mailed code → ID token sub', async ({ page, waitForCallback }) => {
      const request = await authorizationRequest();
      await page.goto(request.url);
      await expectPath(page, '/sign-in', 'landing page');
      await expectLang(page, 'en', '/sign-in');
      await clickLink(page, '/sign-in/verification-code', 'click "Sign in with a verification code"');
      await expectPath(page, '/sign-in/verification-code', 'page after the code link');
      await fillAndSubmit(page, { identifier: user.email }, 'submit the email');
      await expectPath(page, '/sign-in/verification-code/verify', 'page after submitting the email');
      const code = await nextMail(user.email, 'SignIn', 'sign-in');
      await screenshot(page, 'sign-in-code-en');
      await fillAndSubmit(page, { code }, 'submit the code', { wait: false });
      const claims = await exchange(request, await waitForCallback());
      assertEqual(claims.sub, user.sub, 'ID token sub (the user registered in (a))');
      assertEqual(claims.email, user.email, 'ID token email');
    });

    // (c) forgot password, Traditional Chinese
    const newPassword = randomPassword();
    const stepC = '(c) zh-TW: /sign-in → forgot link → email → mailed code → /forgot-password/reset → 密碼已變更';
    await scenario(stepC, async ({ page, captured, documentStatus }) => {
      const request = await authorizationRequest({ ui_locales: 'zh-TW' });
      await page.goto(request.url);
      await expectPath(page, '/sign-in', 'landing page');
      await expectLang(page, 'zh-TW', '/sign-in');
      await clickLink(page, '/forgot-password', 'click "Forgot your password?"');
      await expectPath(page, '/forgot-password', 'page after the forgot-password link');
      await expectLang(page, 'zh-TW', '/forgot-password');
      await screenshot(page, 'forgot-password-zh-tw');
      await fillAndSubmit(page, { identifier: user.email }, 'submit the email');
      await expectPath(page, '/forgot-password/verification-code/verify', 'page after submitting the email');
      resetCodePage = { shape: await codePageShape(page), alerts: await visibleAlerts(page) };
      const code = await nextMail(user.email, 'ForgotPassword', 'password reset');
      await screenshot(page, 'forgot-password-code-zh-tw');
      await fillAndSubmit(page, { code }, 'submit the code');
      await expectPath(page, '/forgot-password/reset', 'page after the code');
      await expectLang(page, 'zh-TW', '/forgot-password/reset');
      await fillAndSubmit(page, { password: newPassword, confirm_password: newPassword }, 'submit the new password');
      assertEqual(documentStatus(), 200, `HTTP status of the page after the new password (${await describePage(page)})`);
      await expectLang(page, 'zh-TW', 'the password-changed page');
      const h1 = (await page.locator('h1').first().innerText()).trim();
      if (h1 !== PASSWORD_CHANGED['zh-TW']) {
        fail(`password-changed page: expected h1 ${show(PASSWORD_CHANGED['zh-TW'])}, ${await describePage(page)}`);
      }
      const back = page.locator('a[href^="/sign-in"]');
      assert((await back.count()) > 0, `password-changed page: no link to /sign-in (${await describePage(page)})`);
      assertEqual(captured.length, 0, 'redirects to the redirect_uri during the password reset');
      await screenshot(page, 'password-changed-zh-tw');
    });

    await scenario('(c) the new password signs in on /sign-in; the old one is refused', async ({ page, waitForCallback }) => {
      const request = await authorizationRequest();
      await page.goto(request.url);
      await expectPath(page, '/sign-in', 'landing page');
      await fillAndSubmit(page, { identifier: user.email, password: newPassword }, 'sign in with the new password', {
        wait: false,
      });
      const claims = await exchange(request, await waitForCallback());
      assertEqual(claims.sub, user.sub, 'ID token sub after signing in with the new password');
      const verify = `/api/users/${encodeURIComponent(user.sub)}/password/verify`;
      await mapi.request('POST', verify, { body: { password: user.password }, expected: 422 });
      await mapi.request('POST', verify, { body: { password: newPassword }, expected: 204 });
    });

    // (d) forgot password for an unknown address
    await scenario('(d) zh-TW: forgot password for an unknown email → same code page, no mail', async ({ page }) => {
      const ghost = randomEmail();
      const request = await authorizationRequest({ ui_locales: 'zh-TW' });
      await page.goto(request.url);
      await expectPath(page, '/sign-in', 'landing page');
      await clickLink(page, '/forgot-password', 'click "Forgot your password?"');
      await expectPath(page, '/forgot-password', 'page after the forgot-password link');
      await fillAndSubmit(page, { identifier: ghost }, 'submit the unknown email');
      await expectPath(page, '/forgot-password/verification-code/verify', 'page after submitting an unknown email');
      assert(
        (await page.locator('input[name="code"]').count()) > 0,
        `no code input for an unknown email (${await describePage(page)})`
      );
      await screenshot(page, 'forgot-password-unknown-code-zh-tw');
      if (resetCodePage) {
        const alerts = await visibleAlerts(page);
        assertEqual(
          alerts,
          resetCodePage.alerts,
          `visible role="alert" elements on the code page, unknown vs known email (${await describePage(page)})`
        );
        const shape = await codePageShape(page);
        assert(
          shape === resetCodePage.shape,
          `the code page differs for an unknown email (it must not tell whether the account exists):\n` +
            `  known:   ${show(resetCodePage.shape)}\n  unknown: ${show(shape)}`
        );
      }
      await sleep(QUIET_MS);
      const sent = smtp.mailsTo(ghost);
      assert(sent.length === 0, `a mail went to the unknown address ${ghost}: ${show(sent.map((m) => m.subject))}`);
    });

    completed = true;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await undoSetup(suite, cleanups, completed);
  }
};

await runBrowserSuite(suite, main);
