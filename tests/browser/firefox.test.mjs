// /ps/push in Firefox ESR (Debian's), driven over WebDriver BiDi by puppeteer-core: Firefox
// still replaces a whole document with each part of a multipart/x-mixed-replace stream.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import puppeteer from 'puppeteer-core';
import { base, state, waitFor } from './helpers.mjs';

test('Firefox replaces the document with every part of /ps/push', async () => {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: '/usr/bin/firefox-esr',
    headless: true,
    userDataDir: `${process.env.PUSHCGI_TMP}/firefox-profile`,
  });
  try {
    const page = await browser.newPage();
    // The document never finishes loading: each part replaces it.
    page.goto(`${base}/ps/push?interval=1&top=10`).catch(() => {});
    const captions = [];
    const until = Date.now() + 5000;
    while (Date.now() < until && captions.length < 4) {
      try {
        const caption = await page.evaluate(() => document.querySelector('.caption')?.textContent);
        if (caption && captions[captions.length - 1] !== caption) captions.push(caption);
      } catch {
        // The document was replaced while we read it.
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(captions.length >= 3, `the page was replaced ${captions.length - 1} times in 5 s`);
    await page.screenshot({ path: `${process.env.PUSHCGI_SCREENSHOTS}/ps-push-firefox.png` });
    assert.equal((await state('ps')).streams.push, 1);
  } finally {
    await browser.close();
  }
  assert.ok(await waitFor(async () => (await state('ps')).streams.push === 0, 5000),
    'the /ps/push stream outlived the browser');
});
