// /webcam/ in headless Chromium: the <img> moves, each frame shows when it is sent (not one
// frame late), and closing the page frees the stream. The stack runs the testcard at 2 fps,
// so that one frame late would be 500 ms late.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { base, launch, referenceViewer, state, waitFor, watchFrames } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the picture moves, and every frame shows when it is sent', async (t) => {
  // A reference viewer of the same stream: when each frame (X-Frame) left the server.
  const arrivals = new Map();
  const stop = referenceViewer('/webcam/stream?framing=length', (part) => {
    arrivals.set(part.frame & 0xffff, part.arrived);
  });
  const page = await browser.newPage();
  try {
    await page.goto(`${base}/webcam/`);
    await page.waitForFunction(() => document.querySelector('img').naturalWidth > 0);
    const changes = await page.evaluate(watchFrames, 4000);
    const seen = changes.slice(1);  // the first is whatever was there at the start
    assert.ok(seen.length >= 5, `the picture changed ${seen.length} times in 4 s at 2 fps`);
    let compared = 0;
    const delays = [];
    for (const { number, at } of seen) {
      const sent = arrivals.get(number);
      if (sent === undefined) continue;
      compared++;
      delays.push(at - sent);
      // One frame late would be about 500 ms here.
      assert.ok(at - sent < 150, `frame ${number} showed ${at - sent} ms after it was sent`);
    }
    assert.ok(compared >= 4, `compared ${compared} frames`);
    t.diagnostic(`shown after it was sent (ms): ${delays.join(' ')}`);
    await page.screenshot({ path: process.env.PUSHCGI_SCREENSHOTS + '/webcam.png' });
  } finally {
    stop();
    await page.close();
  }
});

test('closing the page frees the stream', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/webcam/`);
  await page.waitForFunction(() => document.querySelector('img').naturalWidth > 0);
  assert.ok(await waitFor(async () => (await state('webcam')).open_streams >= 1, 5000));
  const closed = Date.now();
  await page.close();
  assert.ok(await waitFor(async () => (await state('webcam')).open_streams === 0, 5000),
    'the stream is still open 5 s after the page closed');
  assert.ok(Date.now() - closed < 1000, `freed after ${Date.now() - closed} ms`);
});
