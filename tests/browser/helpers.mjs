// Shared pieces of the browser tests: Debian's Chromium under playwright-core, the stack's
// address, and a reference viewer that reads a stream the way ffmpeg would.
import http from 'node:http';
import { chromium } from 'playwright-core';
import { chromiumArgs } from './engines.mjs';

export const base = process.env.PUSHCGI_BASE_URL;
if (!base) throw new Error('PUSHCGI_BASE_URL is not set: run tests/browser/run.sh');
// A second stack whose webcam.fcgi relays the first one's (--source http://BASE/webcam/stream).
export const relay = process.env.PUSHCGI_RELAY_URL;

// Chromium as a playwright browser (relay.test.mjs); the matrix tests use engines.mjs.
export async function launch() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs });
}

export async function state(program, from = base) {
  const response = await fetch(`${from}/${program}/state`);
  return response.json();
}

export async function waitFor(predicate, timeoutMs, stepMs = 10) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await predicate()) return true;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  return predicate();
}

// Polls fn in an engines.mjs page until it returns something truthy; an evaluation that
// throws (no document yet, or the document being replaced) counts as not yet.
export async function waitInPage(page, timeoutMs, fn, ...args) {
  return waitFor(() => page.evaluate(fn, ...args).catch(() => false), timeoutMs, 50);
}

// Reads a length-framed stream; calls onPart({frame, timestamp, arrived}) per part.
export function referenceViewer(path, onPart, from = base) {
  let buffer = Buffer.alloc(0);
  const request = http.get(`${from}${path}`, { headers: { 'User-Agent': 'reference/1.0' } },
    (response) => {
      response.on('data', (chunk) => {
        const arrived = Date.now();
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          const text = buffer.toString('latin1');
          const headEnd = text.indexOf('\r\n\r\n', text.indexOf('Content-Length: '));
          const lengthAt = text.indexOf('Content-Length: ');
          if (lengthAt < 0 || headEnd < 0) return;
          const length = parseInt(text.slice(lengthAt + 16), 10);
          if (buffer.length < headEnd + 4 + length + 2) return;
          const head = text.slice(0, headEnd);
          const frame = /X-Frame: (\d+)/.exec(head);
          const stamp = /X-Timestamp: ([\d.]+)/.exec(head);
          onPart({ frame: frame ? Number(frame[1]) : -1, timestamp: stamp ? Number(stamp[1]) : 0, arrived });
          buffer = buffer.subarray(headEnd + 4 + length);
        }
      });
    });
  request.on('error', () => {});
  return () => request.destroy();
}

// Runs in the page: reads the frame number the testcard draws as 16 black/white cells
// (Testcard::pattern_cell) from every <img> matching selector through a canvas, every few
// ms, and records when it changes: per picture {mode (its data-mode), changes: [{number,
// at}]}. Through createImageBitmap, taken anew each time: Firefox's drawImage of the <img>
// itself keeps returning one stale frame (HTML's rule for animated images), while a bitmap
// of it is the current frame in all three engines.
export async function watchFrames(durationMs, selector = 'img', stepMs = 5) {
  const images = [...document.querySelectorAll(selector)];
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  const read = async (img) => {
    if (img.naturalWidth === 0) return null;
    let bitmap;
    try {
      bitmap = await createImageBitmap(img);
    } catch {
      return null;  // between two snapshots, or a stream that failed
    }
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    context.drawImage(bitmap, 0, 0);
    bitmap.close();
    const size = Math.max(8, Math.floor(canvas.width / 20));
    let number = 0;
    for (let bit = 0; bit < 16; bit++) {
      const x = size * 2 + bit * size + size / 2;
      const y = canvas.height - size * 2 + size / 2;
      const [r, g, b] = context.getImageData(x, y, 1, 1).data;
      number = number * 2 + ((r + g + b) / 3 > 127 ? 1 : 0);
    }
    return number;
  };
  const changes = images.map(() => []);
  const until = Date.now() + durationMs;
  do {
    for (let i = 0; i < images.length; i++) {
      const number = await read(images[i]);
      const seen = changes[i];
      if (number !== null && (seen.length === 0 || seen[seen.length - 1].number !== number)) {
        seen.push({ number, at: Date.now() });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  } while (Date.now() < until);
  return images.map((img, i) => ({ mode: img.dataset.mode, changes: changes[i] }));
}
