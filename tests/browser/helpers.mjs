// Shared pieces of the browser tests: Debian's Chromium under playwright-core, the stack's
// address, and a reference viewer that reads a stream the way ffmpeg would.
import http from 'node:http';
import { chromium } from 'playwright-core';

export const base = process.env.PUSHCGI_BASE_URL;
if (!base) throw new Error('PUSHCGI_BASE_URL is not set: run tests/browser/run.sh');

// Flags for a closed network and root (DESIGN.md F): no sandbox, no background traffic.
export async function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function state(program) {
  const response = await fetch(`${base}/${program}/state`);
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

// Reads a length-framed stream; calls onPart({frame, timestamp, arrived}) per part.
export function referenceViewer(path, onPart) {
  let buffer = Buffer.alloc(0);
  const request = http.get(`${base}${path}`, { headers: { 'User-Agent': 'reference/1.0' } },
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
