// The wall: webcam.fcgi's / with twelve cameras and the live process list beside them.
// Over HTTP/2 (the shipped nginx and Apache configurations, https with a self-signed
// certificate) every picture moves, in each engine; over HTTP/1.1 the page says that the
// browser allows six streams per host, streams four pictures, shows the others as snapshots
// reloaded every second, and nothing freezes. Frame numbers are read back from each
// picture's testcard cells.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { engines, openBrowser } from './engines.mjs';
import { waitFor, watchFrames } from './helpers.mjs';

const walls = {
  nginx: process.env.PUSHCGI_WALL_NGINX_H2,  // https://127.0.0.1:PORT (HTTP/2)
  apache: process.env.PUSHCGI_WALL_APACHE_H2,
  http1: process.env.PUSHCGI_WALL_HTTP1,  // the nginx stack's plain port
};
for (const [name, url] of Object.entries(walls)) {
  if (!url) throw new Error(`the ${name} wall's address is not set: run tests/browser/run.sh`);
}
const shots = process.env.PUSHCGI_SCREENSHOTS;
const pictures = 12;
// A wall test that hangs (a request stuck behind six streams) fails instead.
const timeout = 60_000;

// The same program behind both ports of a stack: its /state over plain HTTP.
async function openStreams(program, stateBase) {
  const response = await fetch(`${stateBase}/${program}/state`);
  return (await response.json()).open_streams;
}

// Every wall picture's mode and the distinct frame numbers it showed, in order, over
// durationMs (read every ~100 ms).
async function wallFrames(page, durationMs) {
  const pictures = await page.evaluate(watchFrames, durationMs, '#wall img', 100);
  return pictures.map(({ mode, changes }) => ({ mode, numbers: changes.map((c) => c.number) }));
}

// Runs in the page: the caption of the process list in the panel.
function panelCaption() {
  return document.querySelector('iframe.panel')?.contentDocument
    ?.querySelector('#ps .caption')?.textContent ?? null;
}

// Runs in the page: [pictures live, pictures pulled, the note].
function wallModes() {
  const images = [...document.querySelectorAll('#wall img')];
  return [images.filter((img) => img.dataset.mode === 'live').length,
    images.filter((img) => img.dataset.mode === 'pull').length,
    document.getElementById('note')?.textContent ?? ''];
}

// Polls fn in the page until check(value) holds; the last value.
async function poll(page, fn, check, timeoutMs) {
  let value;
  await waitFor(async () => {
    try {
      value = await page.evaluate(fn);
    } catch {
      return false;
    }
    return check(value);
  }, timeoutMs, 100);
  return value;
}

// Numbers that only go up, with at least `count` of them.
function moving(numbers, count) {
  return numbers.length >= count && numbers.every((n, i) => i === 0 || n > numbers[i - 1]);
}

async function liveListMoves(page) {
  const first = await poll(page, panelCaption, (caption) => !!caption, 5000);
  assert.ok(first, 'the panel shows no process list');
  const next = await poll(page, panelCaption, (caption) => caption && caption !== first, 5000);
  assert.notEqual(next, first, 'the process list in the panel did not change within 5 s');
}

async function everyPictureMoves(t, engine, origin, stateBase, screenshot) {
  const browser = await openBrowser(engine, { acceptInsecureCerts: true });
  try {
    const page = await browser.newPage();
    await page.goto(`${origin}/webcam/`);
    const [live] = await poll(page, wallModes, ([n]) => n === pictures, 10000);
    assert.equal(live, pictures, `${live} of ${pictures} pictures live over HTTP/2`);
    const frames = await wallFrames(page, 3000);
    t.diagnostic(`frame numbers per picture in 3 s: ${frames.map((f) => f.numbers.length).join(' ')}`);
    frames.forEach(({ numbers }, i) => {
      // 5 fps: about 15 in 3 s; a picture stuck behind six streams shows at most one.
      assert.ok(moving(numbers, 6), `picture ${i + 1} showed ${numbers.join(',')} in 3 s`);
    });
    await liveListMoves(page);
    assert.equal(await openStreams('webcam', stateBase), pictures);
    assert.equal(await openStreams('ps', stateBase), 1);
    if (screenshot) await page.screenshot(`${shots}/${screenshot}`);
    await page.close();
    assert.ok(await waitFor(async () => (await openStreams('webcam', stateBase)) === 0 &&
      (await openStreams('ps', stateBase)) === 0, 5000), 'the wall\'s streams outlived the page');
  } finally {
    await browser.close();
  }
}

for (const engine of engines) {
  test(`${engine}: over HTTP/2 through nginx every picture of the wall moves, and the live list`,
    { timeout }, (t) => everyPictureMoves(t, engine, walls.nginx, walls.http1, `wall-${engine}.png`));
}

test('chromium: over HTTP/2 through Apache (mod_http2, mod_proxy_fcgi) every picture moves',
  { timeout }, (t) => everyPictureMoves(t, 'chromium', walls.apache, process.env.PUSHCGI_WALL_APACHE_HTTP1));

test('chromium: over HTTP/1.1 the wall says why, streams four, pulls the rest, and never freezes',
  { timeout }, async (t) => {
    const browser = await openBrowser('chromium');
    try {
      const page = await browser.newPage();
      await page.goto(`${walls.http1}/webcam/`);
      const [live, pulled, note] = await poll(page, wallModes, ([n, m]) => n + m === pictures, 10000);
      assert.equal(live, 4);
      assert.equal(pulled, 8);
      assert.match(note, /at most six connections to one host/);
      const frames = await wallFrames(page, 3500);
      t.diagnostic(`frame numbers per picture in 3.5 s: ${frames.map((f) => `${f.mode}:${f.numbers.length}`).join(' ')}`);
      for (const [i, { mode, numbers }] of frames.entries()) {
        // A live picture at 5 fps; a snapshot reloaded every second.
        assert.ok(moving(numbers, mode === 'live' ? 6 : 2), `${mode} picture ${i + 1} showed ${numbers.join(',')}`);
      }
      await liveListMoves(page);
      assert.equal(await openStreams('webcam', walls.http1), 4);
      // A seventh request of the page still gets through at once.
      const took = await page.evaluate(async () => {
        const start = performance.now();
        await (await fetch('/webcam/state', { cache: 'no-store', signal: AbortSignal.timeout(5000) })).json();
        return performance.now() - start;
      });
      assert.ok(took < 2000, `a request beside the wall took ${took} ms`);
      // A click on a still picture makes it live instead of the one live the longest.
      await page.evaluate(() => document.querySelectorAll('#wall img')[11].click());
      const after = await poll(page, () => [...document.querySelectorAll('#wall img')].map((img) => img.dataset.mode),
        (modes) => modes[11] === 'live', 5000);
      assert.equal(after[11], 'live');
      assert.equal(after[0], 'pull');
      assert.equal(after.filter((mode) => mode === 'live').length, 4);
      assert.ok(await waitFor(async () => (await openStreams('webcam', walls.http1)) === 4, 5000));
      await page.screenshot(`${shots}/wall-http1-chromium.png`);
      await page.close();
      assert.ok(await waitFor(async () => (await openStreams('webcam', walls.http1)) === 0, 5000));
    } finally {
      await browser.close();
    }
  });

// The wall stacks run webcam.fcgi with --max-streams 12 (run.sh): a second wall is refused
// its streams (503), shows snapshots meanwhile, and takes the streams as soon as the first
// wall lets them go.
test('chromium: a wall refused its streams shows snapshots and goes live when streams are free',
  { timeout }, async (t) => {
    const browser = await openBrowser('chromium', { acceptInsecureCerts: true });
    try {
      const first = await browser.newPage();
      await first.goto(`${walls.nginx}/webcam/`);
      await poll(first, wallModes, ([n]) => n === pictures, 10000);
      assert.ok(await waitFor(async () => (await openStreams('webcam', walls.http1)) === pictures, 5000));
      const second = await browser.newPage();
      await second.goto(`${walls.nginx}/webcam/`);
      const [, pulled] = await poll(second, wallModes, ([, m]) => m === pictures, 10000);
      assert.equal(pulled, pictures, 'the refused wall\'s pictures are not showing snapshots');
      const meanwhile = await wallFrames(second, 2500);
      t.diagnostic(`snapshots seen per picture in 2.5 s: ${meanwhile.map((f) => f.numbers.length).join(' ')}`);
      meanwhile.forEach(({ numbers }, i) => {
        assert.ok(moving(numbers, 2), `refused picture ${i + 1} showed ${numbers.join(',')} in 2.5 s`);
      });
      assert.equal(await openStreams('webcam', walls.http1), pictures);
      await first.close();
      // Each picture tries its stream again 5 s after it was refused.
      const [live] = await poll(second, wallModes, ([n]) => n === pictures, 15000);
      assert.equal(live, pictures, `${live} of ${pictures} pictures live again`);
      const frames = await wallFrames(second, 2000);
      frames.forEach(({ numbers }, i) => {
        assert.ok(moving(numbers, 4), `picture ${i + 1} showed ${numbers.join(',')} in 2 s after it went live again`);
      });
      await second.close();
    } finally {
      await browser.close();
    }
  });
