// A relayed stream in headless Chromium (issue 13): the relay stack's webcam.fcgi takes its
// frames from the first stack's (--source http://.../webcam/stream, 2 fps testcard) and
// passes them through byte for byte, so the <img> shows the first stack's frame numbers.
// Browser framing: a frame shows when the relay sends it, not one frame (500 ms) late.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { base, launch, referenceViewer, relay, state, waitFor, watchFrames } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a relayed stream moves, shows the frames of the camera it relays, each in time',
  { skip: relay ? false : 'PUSHCGI_RELAY_URL is not set' }, async (t) => {
    // A direct viewer of the first stack: when each of its frames (X-Frame, the number the
    // testcard draws) left it.
    const sent = new Map();
    const stop = referenceViewer('/webcam/stream?framing=length', (part) => {
      sent.set(part.frame & 0xffff, part.arrived);
    }, base);
    const page = await browser.newPage();
    try {
      await page.goto(`${relay}/webcam/`);
      await page.waitForFunction(() => document.querySelector('img').naturalWidth > 0,
        null, { timeout: 15000 });
      const [{ changes }] = await page.evaluate(watchFrames, 4000);
      const seen = changes.slice(1);  // the first is whatever was there at the start
      assert.ok(seen.length >= 5, `the relayed picture changed ${seen.length} times in 4 s at 2 fps`);
      const delays = [];
      let previous = -1;
      for (const { number, at } of seen) {
        assert.ok(number > previous, `frame ${number} after ${previous}`);
        previous = number;
        const from = sent.get(number);
        assert.ok(from !== undefined, `frame ${number} is not one the relayed stack sent`);
        delays.push(at - from);
        // Through a second program and a second nginx; one frame late would be 500 ms more.
        // A single frame held up on its own is no such bug (see matrix.test.mjs).
        assert.ok(at - from < 500, `frame ${number} showed ${at - from} ms after the source sent it, a frame late`);
      }
      t.diagnostic(`shown after the relayed stack sent it (ms): ${delays.join(' ')}`);
      const median = [...delays].sort((a, b) => a - b)[Math.floor(delays.length / 2)];
      assert.ok(median < 300, `frames showed ${median} ms after the source sent them (median)`);
      const relayState = await state('webcam', relay);
      assert.ok(relayState.source.describe.startsWith('http://'), relayState.source.describe);
      await page.screenshot({ path: process.env.PUSHCGI_SCREENSHOTS + '/relay.png' });
    } finally {
      stop();
      await page.close();
    }
    // The relay stack runs with --linger 0: its upstream stream ends with its last viewer, so
    // the first stack counts no stream for the tests that follow.
    assert.ok(await waitFor(async () => (await state('webcam')).open_streams === 0, 5000),
      'the relay still holds a stream of the first stack 5 s after its last viewer left');
  });
