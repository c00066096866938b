// /ps/ and /ps/pull in headless Chromium: the live page updates itself through
// EventSource, the pull page reloads itself, and closing the page frees the stream.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { base, launch, state, waitFor } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the live page updates the list', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${base}/ps/?interval=1&sort=cpu&top=15`);
    const caption = () => page.$eval('#ps .caption', (element) => element.textContent);
    const first = await caption();
    assert.match(first, /processes at .* UTC, sorted by cpu/);
    assert.ok(await waitFor(async () => (await caption()) !== first, 4000),
      'the caption did not change within 4 s');
    assert.equal(await page.$eval('#status', (element) => element.textContent), 'Live.');
    await page.screenshot({ path: process.env.PUSHCGI_SCREENSHOTS + '/ps.png', fullPage: false });
  } finally {
    await page.close();
  }
  assert.ok(await waitFor(async () => (await state('ps')).open_streams === 0, 5000));
});

test('the pull page reloads itself', async () => {
  const page = await browser.newPage();
  let loads = 0;
  page.on('load', () => { loads++; });
  try {
    await page.goto(`${base}/ps/pull?interval=1&top=5`);
    assert.ok(await waitFor(() => loads >= 3, 5000), `${loads} loads in 5 s at interval 1`);
  } finally {
    await page.close();
  }
});

test('a /ps/push stream that a page reads ends when the page closes', async () => {
  // Chromium shows multipart only in images (Firefox replaces the document); here the page
  // reads the stream with fetch, and closing the page must end it.
  const page = await browser.newPage();
  await page.goto(`${base}/ps/`);
  page.evaluate(() => fetch('/ps/push?interval=1').then((r) => r.text())).catch(() => {});
  assert.ok(await waitFor(async () => (await state('ps')).streams.push === 1, 5000));
  await page.close();
  assert.ok(await waitFor(async () => (await state('ps')).streams.push === 0, 2000));
});
