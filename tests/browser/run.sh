#!/usr/bin/env bash
# Runs the browser tests: starts the demo stack (nginx, webcam testcard at 2 fps) on a free
# loopback port, and a second stack whose webcam.fcgi relays the first one's stream
# (--source http://, --linger 0), and for WebKit an X server (Xvfb) with WebKitWebDriver on
# a free loopback port, and two stacks of twelve cameras for the wall (wall.test.mjs), each
# also serving HTTPS over HTTP/2 (PUSHCGI_TLS_PORT): nginx and Apache with mod_proxy_fcgi;
# runs node's test runner over tests/browser/*.test.mjs (Debian's
# Chromium, Firefox ESR and WebKitGTK, tests/browser/engines.mjs), stops everything, and
# closes with "browser: N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bin=${PUSHCGI_BIN:-$root/build/bin}
# Again whenever package-lock.json changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error || exit 1
fi
run=$(mktemp -d /tmp/pushcgi-browser-XXXXXX)
chmod 711 "$run"
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port=$(free_port)
relay_port=$(free_port)
PUSHCGI_BIN=$bin WEBCAM_OPTIONS="--fps 2" setsid tools/dev-stack "$run/stack" "$port" nginx \
  2>"$run/stack.log" &
stack=$!
PUSHCGI_BIN=$bin WEBCAM_OPTIONS="--source http://127.0.0.1:$port/webcam/stream --linger 0" \
  setsid tools/dev-stack "$run/relay" "$relay_port" nginx 2>"$run/relay.log" &
relay=$!
# Twelve 320x240 testcards at 5 fps, and the live process list beside them; streams for one
# wall only (a second one is refused: wall.test.mjs).
wall_options="--wall-panel /ps/?top=8 --max-streams 12"
for i in $(seq 12); do
  wall_options+=" --source cam$i=testcard --size cam$i=320x240 --fps cam$i=5"
done
wall_port=$(free_port)
wall_tls=$(free_port)
PUSHCGI_BIN=$bin PUSHCGI_TLS_PORT=$wall_tls WEBCAM_OPTIONS="$wall_options" \
  setsid tools/dev-stack "$run/wall" "$wall_port" nginx 2>"$run/wall.log" &
wall=$!
apache_wall_port=$(free_port)
apache_wall_tls=$(free_port)
PUSHCGI_BIN=$bin PUSHCGI_TLS_PORT=$apache_wall_tls WEBCAM_OPTIONS="$wall_options" \
  setsid tools/dev-stack "$run/apache-wall" "$apache_wall_port" apache-proxy 2>"$run/apache-wall.log" &
apache_wall=$!
webdriver=
xvfb=
cleanup() {
  local groups=("-$stack" "-$relay" "-$wall" "-$apache_wall" ${webdriver:+"-$webdriver"} ${xvfb:+"-$xvfb"})
  kill -TERM -- "${groups[@]}" 2>/dev/null
  wait "$stack" "$relay" "$wall" "$apache_wall" $webdriver $xvfb 2>/dev/null
  kill -KILL -- "${groups[@]}" 2>/dev/null
  rm -rf "$run"
}
trap cleanup EXIT
# WebKit: MiniBrowser has no headless mode, so an X server of its own (-displayfd: Xvfb
# picks a free display and writes its number), and WebKitWebDriver in its own process group
# so that the MiniBrowser and WebKit processes it starts go with it.
exec {displayfd}>"$run/display"
setsid Xvfb -displayfd "$displayfd" -screen 0 1280x1024x24 -nolisten tcp 2>"$run/xvfb.log" &
xvfb=$!
exec {displayfd}>&-
for _ in $(seq 200); do [ -s "$run/display" ] && break; sleep 0.05; done
if [ ! -s "$run/display" ]; then
  echo "Xvfb did not start:"; cat "$run/xvfb.log"; exit 1
fi
webdriver_port=$(free_port)
DISPLAY=:$(head -1 "$run/display") setsid WebKitWebDriver --host=127.0.0.1 \
  --port="$webdriver_port" >"$run/webdriver.log" 2>&1 &
webdriver=$!
for p in "$port" "$relay_port" "$wall_port" "$apache_wall_port"; do
  for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$p/webcam/state" >/dev/null 2>&1 &&
      curl -sf "http://127.0.0.1:$p/ps/state" >/dev/null 2>&1 && break
    sleep 0.05
  done
done
for _ in $(seq 200); do
  curl -sf "http://127.0.0.1:$webdriver_port/status" >/dev/null 2>&1 && break
  sleep 0.05
done
shots=${PUSHCGI_SCREENSHOTS:-$root/build/screenshots}
mkdir -p "$shots"
PUSHCGI_BASE_URL="http://127.0.0.1:$port" PUSHCGI_RELAY_URL="http://127.0.0.1:$relay_port" \
  PUSHCGI_WEBDRIVER_URL="http://127.0.0.1:$webdriver_port" \
  PUSHCGI_WALL_HTTP1="http://127.0.0.1:$wall_port" PUSHCGI_WALL_NGINX_H2="https://127.0.0.1:$wall_tls" \
  PUSHCGI_WALL_APACHE_H2="https://127.0.0.1:$apache_wall_tls" \
  PUSHCGI_WALL_APACHE_HTTP1="http://127.0.0.1:$apache_wall_port" \
  PUSHCGI_SCREENSHOTS="$shots" PUSHCGI_TMP="$run" \
  node --test --test-concurrency=1 tests/browser/ 2>&1 | tee "$run/node.log"
status=${PIPESTATUS[0]}
passed=$(sed -n 's/^# pass \([0-9]*\)/\1/p' "$run/node.log")
failed=$(sed -n 's/^# fail \([0-9]*\)/\1/p' "$run/node.log")
if [ "$status" -ne 0 ]; then
  echo "--- stack log"; cat "$run/stack.log"; cat "$run"/stack/*.log 2>/dev/null | tail -50
  echo "--- relay stack log"; cat "$run/relay.log"; cat "$run"/relay/*.log 2>/dev/null | tail -50
  for w in wall apache-wall; do
    echo "--- $w stack log"; cat "$run/$w.log"; cat "$run/$w"/*.log 2>/dev/null | tail -50
  done
  echo "--- Xvfb and WebKitWebDriver logs"; cat "$run/xvfb.log"; tail -50 "$run/webdriver.log"
fi
echo "browser: ${passed:-0} passed, ${failed:-1} failed"
exit "$status"
