// One small adapter per browser engine, all with the same interface, so that each browser
// test runs in Debian's Chromium (playwright-core), Firefox ESR (puppeteer-core over WebDriver
// BiDi) and WebKitGTK (classic W3C WebDriver to the WebKitWebDriver that run.sh starts):
//
//   const browser = await openBrowser('chromium' | 'firefox' | 'webkit', { acceptInsecureCerts });
//   const page = await browser.newPage();
//   await page.goto(url);               // starts the navigation; does not wait for a load
//   await page.evaluate(fn, ...args);   // fn's (awaited) value; may throw while a document
//                                       // is being replaced: callers poll and retry
//   await page.screenshot(path); await page.close(); await browser.close();
//
// goto does not wait because a multipart/x-mixed-replace document (/ps/push) never finishes
// loading, and a page with an MJPEG <img> never fires load in WebKit (DESIGN.md E).
import fs from 'node:fs';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';

export const engines = ['chromium', 'firefox', 'webkit'];
// The same window in every engine (the screenshots of the wall compare them).
const viewport = { width: 1280, height: 900 };

export async function openBrowser(name, { acceptInsecureCerts = false } = {}) {
  if (name === 'chromium') return openChromium(acceptInsecureCerts);
  if (name === 'firefox') return openFirefox(acceptInsecureCerts);
  if (name === 'webkit') return openWebKit(acceptInsecureCerts);
  throw new Error(`unknown browser engine ${name}`);
}

// fn and its arguments as one expression, the same text for all three engines.
function expression(fn, args) {
  return `(${fn})(...${JSON.stringify(args)})`;
}

// Flags for a closed network and root (DESIGN.md F): no sandbox, no background traffic.
export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function openChromium(acceptInsecureCerts) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs,
  });
  return {
    name: 'chromium',
    async newPage() {
      const context = await browser.newContext({ ignoreHTTPSErrors: acceptInsecureCerts, viewport });
      const page = await context.newPage();
      return {
        raw: page,
        async goto(url) { page.goto(url).catch(() => {}); },
        evaluate: (fn, ...args) => page.evaluate(expression(fn, args)),
        // Over CDP: playwright's page.screenshot waits for fonts, which never load in a
        // document that never finishes loading (/ps/push).
        async screenshot(path) {
          const cdp = await context.newCDPSession(page);
          const { data } = await cdp.send('Page.captureScreenshot', { format: 'png' });
          fs.writeFileSync(path, Buffer.from(data, 'base64'));
        },
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}

async function openFirefox(acceptInsecureCerts) {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: '/usr/bin/firefox-esr',
    headless: true,
    acceptInsecureCerts,
    defaultViewport: viewport,
    userDataDir: fs.mkdtempSync(`${process.env.PUSHCGI_TMP ?? '/tmp'}/firefox-profile-`),
  });
  return {
    name: 'firefox',
    async newPage() {
      const page = await browser.newPage();
      return {
        raw: page,
        async goto(url) { page.goto(url).catch(() => {}); },
        evaluate: (fn, ...args) => page.evaluate(expression(fn, args)),
        screenshot: (path) => page.screenshot({ path }),
        close: () => page.close(),
      };
    },
    close: () => browser.close(),
  };
}

// WebKitWebDriver allows one session (one MiniBrowser) at a time, so a WebKit page is a
// session's window: newPage creates the session, page.close deletes it (which ends its
// streams at once; a session left behind would keep them open and block the next one).
// pageLoadStrategy 'none': navigating to /ps/push would otherwise wait for a load that never
// comes and block every later command.
async function openWebKit(acceptInsecureCerts) {
  const driver = process.env.PUSHCGI_WEBDRIVER_URL;
  if (!driver) throw new Error('PUSHCGI_WEBDRIVER_URL is not set: run tests/browser/run.sh');
  const call = async (method, path, body) => {
    const response = await fetch(driver + path, {
      method, headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const { value } = await response.json();
    if (value?.error) throw new Error(`WebDriver ${method} ${path}: ${value.error}: ${value.message}`);
    return value;
  };
  let open = null;  // the session path of the one page
  const deleteSession = async () => {
    const session = open;
    open = null;
    if (session) await call('DELETE', session);
  };
  return {
    name: 'webkit',
    async newPage() {
      if (open) throw new Error('WebKitWebDriver runs one session at a time: close the page first');
      const { sessionId } = await call('POST', '/session', { capabilities: { alwaysMatch: {
        browserName: 'MiniBrowser', acceptInsecureCerts, pageLoadStrategy: 'none',
        'webkitgtk:browserOptions': {
          binary: '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', args: ['--automation'],
        },
      } } });
      const session = `/session/${sessionId}`;
      open = session;
      await call('POST', `${session}/window/rect`, viewport).catch(() => {});
      return {
        async goto(url) { await call('POST', `${session}/url`, { url }); },
        async evaluate(fn, ...args) {
          // execute/async so that a promise is awaited as in the other two engines.
          return call('POST', `${session}/execute/async`, {
            script: `const done = arguments[arguments.length - 1];
              Promise.resolve().then(() => ${expression(fn, args)})
                .then(done, (error) => done({ evaluateError: String(error) }));`,
            args: [],
          }).then((value) => {
            if (value?.evaluateError) throw new Error(value.evaluateError);
            return value;
          });
        },
        async screenshot(path) {
          fs.writeFileSync(path, Buffer.from(await call('GET', `${session}/screenshot`), 'base64'));
        },
        close: () => (open === session ? deleteSession() : undefined),
      };
    },
    close: deleteSession,
  };
}
