// compat step: the hosted pages' layout, colours and accessibility in a real headless Chromium
// (Debian `chromium` + playwright-core 1.65.1) — issue 18 item 7.
//
// Setup (Management API, bootstrap credentials): the sign-in experience gets terms and privacy
// links with explicit agreement (a checkbox), dark mode with Logto's default dark colour
// (#8c61ff, 4.3:1 on the dark card as given), a stricter password policy (10 characters, 3
// character types) and a support email. At the end, whatever happened, those fields are
// PATCHed back, so the later steps see the tenant as it was.
//
//   (a) 375 px, ui_locales=ja: /register has no horizontal scroll; the terms checkbox keeps its
//       size and stands left of its label on the label's first line; the label stays inside
//       the card;
//   (b) dark mode on, the browser preferring dark: dark background; heading, link and button
//       text reach 4.5:1 against what they stand on; buttons and inputs use the page's font;
//   (c) keyboard focus (Tab) on the submit button shows a ring of at least 2 px reaching
//       4.5:1 against the card, in dark mode and in light mode;
//   (d) the register page states the password rules (the policy's 10 characters), read with
//       the password field (aria-describedby); passwords that differ → the message stands
//       under the confirmation field, tied to it (aria-describedby, aria-invalid) and focused;
//       a password the policy refuses → the same for the password field;
//   (e) isDarkModeEnabled: false, the browser preferring dark: no dark colours;
//   (f) an invalid authorization request shows the error page with a way back (the Referer)
//       and the support email; `/` answers a page linking the discovery document.
//
// Every scenario runs in a fresh browser context (own cookies). Screenshots go to
// $COMPAT_OUT_DIR/page-accessibility/ (compat/run exports it), else compat/out/page-accessibility/.
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
  describeError,
  env,
  loadFixtures,
  managementApi,
  randomUsername,
  show,
} from './lib/kit.mjs';
import { capturingSession, runBrowserSuite, runScenario, screenshots } from './lib/pages.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT_DIR = path.join(process.env.COMPAT_OUT_DIR || path.join(HERE, '..', 'out'), 'page-accessibility');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TIMEOUT = Number(process.env.COMPAT_BROWSER_TIMEOUT_MS || 15000);
const MIN_CONTRAST = 4.5;
const SUPPORT_EMAIL = 'help@kido.test';
const MOBILE = { viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

const EXPERIENCE = {
  termsOfUseUrl: 'https://kido.test/terms',
  privacyPolicyUrl: 'https://kido.test/privacy',
  agreeToTermsPolicy: 'Manual',
  color: { primaryColor: '#6139f6', isDarkModeEnabled: true, darkPrimaryColor: '#8c61ff' },
  passwordPolicy: { length: { min: 10, max: 256 }, characterTypes: { min: 3 } },
  supportEmail: SUPPORT_EMAIL,
};

const suite = createSuite('page-accessibility');

const pathOf = (url) => new URL(url).pathname;

// WCAG 2 relative luminance and contrast of computed CSS colours (`rgb(…)`, opaque).
const luminance = (css) => {
  const [r, g, b] = css
    .match(/[\d.]+/g)
    .slice(0, 3)
    .map((c) => {
      const v = Number(c) / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const contrast = (a, b) => {
  const [x, y] = [luminance(a), luminance(b)];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
};

// Colours and fonts of the register page as the browser computed them.
const measureColours = async (page) => {
  const css = await page.evaluate(() => {
    const style = (selector) => getComputedStyle(document.querySelector(selector));
    const button = style('button[type=submit]');
    return {
      body: style('body').backgroundColor,
      card: style('.card').backgroundColor,
      heading: style('h1').color,
      link: style('.terms a').color,
      button: button.color,
      buttonBackground: button.backgroundColor,
      fonts: {
        body: style('body').fontFamily,
        button: button.fontFamily,
        input: style('input[name=username]').fontFamily,
      },
    };
  });
  return {
    css,
    bodyLuminance: luminance(css.body),
    cardLuminance: luminance(css.card),
    heading: contrast(css.heading, css.card),
    link: contrast(css.link, css.card),
    button: contrast(css.button, css.buttonBackground),
    fonts: css.fonts,
  };
};

const main = async () => {
  const { base, issuer } = env();
  const fx = await suite.step('fixtures', () => loadFixtures());
  mkdirSync(OUT_DIR, { recursive: true });
  const mapi = managementApi();

  const config = await suite.step('openid-client discovery (client_secret_basic)', () =>
    client.discovery(new URL(issuer), fx.traditional.id, fx.traditional.secret,
      client.ClientSecretBasic(fx.traditional.secret), { execute: [client.allowInsecureRequests] })
  );
  const authorizationUrl = async (extra = {}) =>
    client.buildAuthorizationUrl(config, {
      redirect_uri: fx.redirectUri,
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state: client.randomState(),
      ...extra,
    }).href;

  const previous = await suite.step('GET /api/sign-in-exp (kept for the restore)', () =>
    mapi.request('GET', '/api/sign-in-exp')
  );
  const restorePatch = Object.fromEntries(Object.keys(EXPERIENCE).map((key) => [key, previous[key] ?? null]));
  let browser;
  let completed = false;
  try {
    await suite.step('PATCH /api/sign-in-exp (terms, dark mode, password policy, support email)', async () => {
      const updated = await mapi.request('PATCH', '/api/sign-in-exp', { body: EXPERIENCE });
      assertEqual(updated?.agreeToTermsPolicy, 'Manual', 'agreeToTermsPolicy after PATCH');
      assertEqual(updated?.color?.isDarkModeEnabled, true, 'color.isDarkModeEnabled after PATCH');
    });

    browser = await suite.step(`launch headless Chromium (${CHROMIUM})`, async () => {
      assert(existsSync(CHROMIUM), `${CHROMIUM} not found (apt-get install -y chromium, or set CHROMIUM_PATH)`);
      return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    });
    const screenshot = screenshots(OUT_DIR);
    const scenario = async (name, fn, options = {}) => {
      const session = await capturingSession(browser, { ...options, redirectUri: fx.redirectUri, timeout: TIMEOUT });
      await runScenario({ suite, name, fn, session, outDir: OUT_DIR, tag: 'page-accessibility' });
    };
    const openRegister = async (page, extra = {}) => {
      await page.goto(await authorizationUrl({ first_screen: 'register', ...extra }));
      assertEqual(pathOf(page.url()), '/register', 'landing page path');
      await page.waitForSelector('input[name=agree]');
    };

    await scenario('(a) 375 px, Japanese: terms checkbox and label keep their layout', async ({ page }) => {
      await openRegister(page, { ui_locales: 'ja' });
      assertEqual(await page.locator('html').getAttribute('lang'), 'ja', '<html lang>');
      const layout = await page.evaluate(() => {
        const rect = (selector) => document.querySelector(selector).getBoundingClientRect().toJSON();
        const label = document.querySelector('label[for=agree]');
        const lineHeight = parseFloat(getComputedStyle(label).lineHeight);
        return {
          scrollWidth: document.documentElement.scrollWidth,
          box: rect('input[name=agree]'),
          label: rect('label[for=agree]'),
          card: rect('.card'),
          lineHeight,
        };
      });
      await screenshot(page, 'register-ja-375');
      assert(layout.scrollWidth <= 375, `the page is ${layout.scrollWidth}px wide in a 375px viewport`);
      assert(layout.box.width >= 16 && layout.box.height >= 16, `the checkbox shrank: ${show(layout.box)}`);
      assert(layout.box.right <= layout.label.left, `the checkbox is not left of its label: ${show(layout)}`);
      assert(
        Math.abs(layout.box.top - layout.label.top) <= layout.lineHeight,
        `the checkbox is not on the label's first line: ${show(layout)}`
      );
      assert(layout.label.right <= layout.card.right, `the label leaves the card: ${show(layout)}`);
    }, MOBILE);

    await scenario('(b) dark mode on: dark colours reaching 4.5:1, the page font on controls', async ({ page }) => {
      await openRegister(page);
      const m = await measureColours(page);
      await screenshot(page, 'register-dark');
      assert(m.bodyLuminance < 0.1, `dark mode is on and the browser prefers dark, but the background is ${m.css.body}`);
      for (const what of ['heading', 'link', 'button']) {
        assert(m[what] >= MIN_CONTRAST, `${what} contrast ${m[what].toFixed(2)}:1 < ${MIN_CONTRAST}:1 (${show(m)})`);
      }
      assertEqual(m.fonts.button, m.fonts.body, 'the button font');
      assertEqual(m.fonts.input, m.fonts.body, 'the input font');
    }, { colorScheme: 'dark' });

    for (const scheme of ['dark', 'light']) {
      await scenario(`(c) keyboard focus ring on the submit button (${scheme})`, async ({ page }) => {
        await openRegister(page);
        let focused = false;
        for (let i = 0; i < 20 && !focused; i += 1) {
          await page.keyboard.press('Tab');
          focused = await page.evaluate(() => document.activeElement?.matches('button[type=submit]') ?? false);
        }
        assert(focused, 'Tab never reached the submit button');
        const ring = await page.evaluate(() => {
          const style = getComputedStyle(document.activeElement);
          return {
            style: style.outlineStyle,
            width: parseFloat(style.outlineWidth),
            color: style.outlineColor,
            card: getComputedStyle(document.querySelector('.card')).backgroundColor,
          };
        });
        ring.contrast = contrast(ring.color, ring.card);
        await screenshot(page, `focus-ring-${scheme}`);
        assert(ring.style !== 'none' && ring.width >= 2, `no visible focus ring: ${show(ring)}`);
        assert(ring.contrast >= MIN_CONTRAST, `the focus ring is ${ring.contrast.toFixed(2)}:1 on the card`);
      }, { colorScheme: scheme });
    }

    await scenario('(d) password rules; field errors tied to their fields and focused', async ({ page }) => {
      await openRegister(page);
      const rules = await page.locator('#password-rules').innerText();
      assert(rules.includes('10'), `the password rules do not state the policy's 10 characters: ${show(rules)}`);
      const describedBy = async (selector) => (await page.locator(selector).getAttribute('aria-describedby')) ?? '';
      assert((await describedBy('#password')).split(' ').includes('password-rules'), 'password not described by the rules');

      const submit = async (password, confirmation) => {
        await page.fill('input[name=username]', randomUsername('compat_a11y'));
        await page.fill('input[name=password]', password);
        await page.fill('input[name=confirm_password]', confirmation);
        await page.check('input[name=agree]');
        await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      };
      const expectFocusedError = async (field) => {
        const state = await page.evaluate((id) => {
          const input = document.getElementById(id);
          const message = document.getElementById(`${id}-error`);
          return {
            active: document.activeElement?.id ?? null,
            invalid: input.getAttribute('aria-invalid'),
            describedBy: (input.getAttribute('aria-describedby') ?? '').split(' '),
            message: message?.textContent?.trim() ?? '',
            alert: message?.getAttribute('role') ?? null,
          };
        }, field);
        assertEqual(state.active, field, 'the focused element after the error');
        assertEqual(state.invalid, 'true', `${field} aria-invalid`);
        assert(state.describedBy.includes(`${field}-error`), `${field} is not described by its error: ${show(state)}`);
        assert(state.message && state.alert === 'alert', `no message under ${field}: ${show(state)}`);
        return state;
      };

      await submit('Kido-compat-1', 'Kido-compat-2');
      await expectFocusedError('confirm_password');
      await screenshot(page, 'register-error-confirmation');
      await submit('kidocompatpassword', 'kidocompatpassword');
      const state = await expectFocusedError('password');
      assert(state.describedBy.includes('password-rules'), `the rules are no longer read with the field: ${show(state)}`);
      await screenshot(page, 'register-error-password');
    });

    await suite.step('PATCH /api/sign-in-exp (isDarkModeEnabled: false)', () =>
      mapi.request('PATCH', '/api/sign-in-exp', { body: { color: { ...EXPERIENCE.color, isDarkModeEnabled: false } } })
    );
    await scenario('(e) dark mode off: light colours although the browser prefers dark', async ({ page }) => {
      await openRegister(page);
      const m = await measureColours(page);
      await screenshot(page, 'register-dark-mode-off');
      assert(m.bodyLuminance > 0.8 && m.cardLuminance > 0.9, `dark mode is off, yet the page is dark: ${show(m)}`);
      assertEqual(
        await page.evaluate(() => document.querySelector('meta[name=color-scheme]')?.content),
        'light',
        'meta color-scheme'
      );
    }, { colorScheme: 'dark' });

    await scenario('(f) error page: way back and support email; / links the discovery document', async ({ page }) => {
      const from = 'https://app.kido.test/start';
      await page.goto(`${issuer}/auth?client_id=unknown-client&response_type=code&scope=openid`, { referer: from });
      const back = page.locator('a', { hasText: 'Go back' });
      assertEqual(await back.getAttribute('href'), from, 'the way back');
      assertEqual(
        await page.locator(`a[href="mailto:${SUPPORT_EMAIL}"]`).count(),
        1,
        'links to the support email'
      );
      await screenshot(page, 'error-page');
      await page.goto(`${base}/`);
      assertEqual(
        await page.locator('a[href="/oidc/.well-known/openid-configuration"]').count(),
        1,
        'the landing page links the discovery document'
      );
      await screenshot(page, 'landing');
    });
    completed = true;
  } finally {
    if (browser) await browser.close().catch(() => {});
    try {
      if (completed) {
        await suite.step('PATCH /api/sign-in-exp (restore)', () =>
          mapi.request('PATCH', '/api/sign-in-exp', { body: restorePatch })
        );
      } else {
        await mapi.request('PATCH', '/api/sign-in-exp', { body: restorePatch });
      }
    } catch (error) {
      console.error(`page-accessibility: cleanup failed: ${describeError(error).split('\n')[0]}`);
      if (completed) throw error; // eslint-disable-line no-unsafe-finally
    }
  }
};

await runBrowserSuite(suite, main);
