// Shared Playwright helpers of the browser compat steps (hosted-pages.mjs,
// passwordless-pages.mjs):
//   * capturingSession: a fresh browser context whose navigations to the redirect_uri are
//     intercepted and recorded,
//   * screenshots: a `screenshot(page, name)` writing <outDir>/<name>.png,
//   * runScenario: runs a scenario as a suite step, with a failure screenshot,
//   * runBrowserSuite: runs a script's main as its suite, a Playwright timeout as one failure line,
//   * undoSetup: runs a script's cleanups in reverse order.

import path from 'node:path';

import { CheckError, describeError, fail } from './kit.mjs';

// A fresh context (locale en-US unless contextOptions says otherwise) whose navigations to
// redirectUri are intercepted and recorded. Returns
//   { context, page, captured, waitForCallback, documentStatus }:
//   captured          the redirect_uri URLs seen so far;
//   waitForCallback() the first of them, or a rejection after `timeout` ms — an Error naming
//                     `page at <url>`, or, when `describe` is given, a CheckError (kit.mjs)
//                     naming `await describe(page)`;
//   documentStatus()  the HTTP status of the last main-frame document response (the final hop
//                     of a redirect chain), null before any.
export const capturingSession = async (browser, { redirectUri, timeout, describe, ...contextOptions }) => {
  const context = await browser.newContext({ locale: 'en-US', ...contextOptions });
  context.setDefaultTimeout(timeout);
  const target = new URL(redirectUri);
  const captured = [];
  let resolveCallback;
  const callback = new Promise((resolve) => {
    resolveCallback = resolve;
  });
  const isCallback = (url) => url.origin === target.origin && url.pathname === target.pathname;
  const record = (url) => {
    if (!captured.includes(url)) captured.push(url);
    resolveCallback(url);
  };
  // page.route() is not called for a URL reached through an HTTP redirect chain that started
  // with the navigation (playwright: "only called for the first url if the response is a
  // redirect"), and Kido's last hop to the redirect_uri is a 303. So the request event records
  // the URL too (it fires for redirect targets; nothing listens on the RP port), and the route
  // answers the navigations it does see.
  context.on('request', (request) => {
    if (isCallback(new URL(request.url()))) record(request.url());
  });
  await context.route(isCallback, async (route) => {
    record(route.request().url());
    await route.fulfill({
      status: 200,
      contentType: 'text/html; charset=utf-8',
      body: '<!doctype html><html><body><p>compat: callback captured</p></body></html>',
    });
  });
  const page = await context.newPage();
  // The last main-frame document response (the final hop of a redirect chain).
  let lastDocument = null;
  page.on('response', (response) => {
    try {
      if (response.request().isNavigationRequest() && response.frame() === page.mainFrame()) lastDocument = response;
    } catch {
      // not a frame response
    }
  });
  const waitForCallback = async () => {
    let timer;
    try {
      return await Promise.race([
        callback,
        new Promise((_, reject) => {
          timer = setTimeout(async () => {
            if (describe) {
              const where = await describe(page);
              reject(new CheckError(`no navigation to ${redirectUri} within ${timeout} ms (${where})`));
            } else {
              reject(new Error(`no navigation to ${redirectUri} within ${timeout} ms (page at ${page.url()})`));
            }
          }, timeout);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
  return { context, page, captured, waitForCallback, documentStatus: () => lastDocument?.status() ?? null };
};

// screenshots(outDir) → screenshot(page, name): a full-page <outDir>/<name>.png; returns its path.
export const screenshots = (outDir) => async (page, name) => {
  const file = path.join(outDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
};

// Runs fn(session) as the suite step `name`; on failure saves <outDir>/failure-<slug>.png and
// logs `<tag>: failure screenshot <file> (<where>)` — where is `await describe(page)` when given,
// else `page at <url>` — before rethrowing. The session's context is closed in any case.
export const runScenario = async ({ suite, name, fn, session, outDir, tag, describe }) => {
  try {
    await suite.step(name, () => fn(session));
  } catch (error) {
    try {
      const file = await screenshots(outDir)(session.page, `failure-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`);
      const where = describe ? await describe(session.page) : `page at ${session.page.url()}`;
      console.error(`${tag}: failure screenshot ${file} (${where})`);
    } catch {
      // the page may be gone
    }
    throw error;
  } finally {
    await session.context.close();
  }
};

// Runs `main` as the suite's run; a Playwright timeout becomes one failure line (the first
// line of its message) instead of a stack.
export const runBrowserSuite = (suite, main) =>
  suite.run(async () => {
    try {
      await main();
    } catch (error) {
      if (error?.name === 'TimeoutError') fail(`playwright timeout: ${error.message.split('\n')[0]}`);
      throw error;
    }
  });

// Undoes a script's setup: `cleanups` ([name, undo] pairs) in reverse order, every undo runs.
// After a failed run (`completed` false) they are only logged, so the first failure stays the
// one reported; after a success each is a suite step, and the first failing one is rethrown.
export const undoSetup = async (suite, cleanups, completed) => {
  let failure = null;
  for (const [name, undo] of [...cleanups].reverse()) {
    if (completed) {
      try {
        await suite.step(name, undo);
      } catch (error) {
        if (!failure) failure = [error, name];
      }
    } else {
      try {
        await undo();
        console.error(`${suite.name}: cleanup: ${name}: done`);
      } catch (error) {
        console.error(`${suite.name}: cleanup: ${name} failed: ${describeError(error).split('\n')[0]}`);
      }
    }
  }
  if (failure) {
    suite.current = failure[1];
    throw failure[0];
  }
};
