#!/usr/bin/env bash
# make package-test: the Debian packages as an administrator gets them. Builds them (make
# deb), checks them with lintian, installs them with apt-get, starts the installed programs
# as their installed units would (without systemd: tests/package/activate.py) behind a test
# nginx that includes the installed snippet unmodified, builds an example against the
# installed libpushcgi-dev with pkg-config alone, then purges both and checks that nothing
# of them is left. As root; it uses the real sockets /run/pushcgi/*.sock (the snippet's) and
# refuses to start if something listens there, if the packages are installed already (an
# administrator's install and configuration would be purged; PUSHCGI_PACKAGE_TEST_REPLACE=1
# allows it), or if systemd runs this host (the installed sockets would be its own: run the
# test in a container or VM without it, as CI does). Everything it started is stopped by
# PID, and the packages are purged, also when a check fails or it is stopped by a signal.
set -euo pipefail
cd "$(dirname "$0")/../.."

readonly PACKAGES=(pushcgi libpushcgi-dev)
readonly UNITS=(pushcgi-ps pushcgi-webcam)
readonly UNIT_DIR=/lib/systemd/system
readonly DEB_DIR=build/deb
start=$(date +%s)

say() { echo "package-test: $*"; }
fail() { echo "package-test: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "run as root: it installs and purges packages"
[ ! -d /run/systemd/system ] ||
  fail "systemd runs this host: the installed sockets would be systemd's, not the test's; run it in a container or VM without systemd as PID 1"
# One run at a time: two would share dpkg's database and /run/pushcgi.
exec 8>/run/lock/pushcgi-package-test
flock -w 900 8 || fail "another make package-test holds /run/lock/pushcgi-package-test"
# Loopback only, never through a proxy of the environment.
export NO_PROXY='*' no_proxy='*'
version=$(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' Makefile)
[ -n "$version" ] || fail "no VERSION := line in the Makefile"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)

# True if something accepts connections on the unix socket $1.
listening() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(2)
try:
    s.connect(sys.argv[1])
except OSError:
    sys.exit(1)
PY
}
# The path of unit $1's ListenStream= in the repository (the installed one must agree).
socket_path() { sed -n 's/^ListenStream=//p' "systemd/$1.socket"; }
for unit in "${UNITS[@]}"; do
  path=$(socket_path "$unit")
  if listening "$path"; then
    fail "something already listens on $path (a running $unit?): stop it first"
  fi
done

# Polls "$@" every 0.1 s for up to $1 seconds; true once it succeeds.
wait_for() {
  local deadline=$(($(date +%s%N) + $1 * 1000000000))
  shift
  until "$@" 2>/dev/null; do
    [ "$(date +%s%N)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

work=$(mktemp -d /tmp/pushcgi-package-test.XXXXXX)
chmod 755 "$work"  # nginx's workers (www-data) use its temp directories
pids=()
installed=false
run_dir_made=false
sockets_made=()

stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  if ! wait_for 10 eval "! kill -0 $pid"; then
    echo "package-test: PID $pid ignored SIGTERM for 10 s: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
stop_all() {
  local pid
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  pids=()
}
purge() {
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -o DPkg::Lock::Timeout=120 \
    "${PACKAGES[@]}" >"$work/purge.log" 2>&1
}
cleanup() {
  local status=$?
  trap - EXIT
  stop_all
  if $installed; then
    purge || { tail -n 20 "$work/purge.log" >&2; echo "package-test: purge failed" >&2; }
  fi
  local path
  for path in "${sockets_made[@]}"; do rm -f "$path"; done
  if $run_dir_made; then rmdir /run/pushcgi 2>/dev/null || true; fi
  if [ "$status" -ne 0 ]; then
    for log in "$work"/*.log; do
      [ -s "$log" ] && { echo "--- $log (last lines)" >&2; tail -n 15 "$log" >&2; }
    done
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
# A signal (a CI timeout, Ctrl-C) ends it through the same cleanup.
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP
# A command that fails outside a check says which (set -e alone would end silently).
trap 'echo "package-test: FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR

# 1. Build and lintian.
for package in "${PACKAGES[@]}"; do
  if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed'; then
    [ "${PUSHCGI_PACKAGE_TEST_REPLACE:-}" = 1 ] ||
      fail "$package is installed: the test would replace and purge it, with its configuration (PUSHCGI_PACKAGE_TEST_REPLACE=1 allows it)"
    say "$package is installed already: it is replaced by the new build, and purged at the end"
  fi
done
[ ! -e /usr/local/include/pushcgi ] ||
  fail "/usr/local/include/pushcgi (make install) would shadow the installed headers"
say "make deb (log: build/package-test-deb.log)"
mkdir -p build
make --no-print-directory deb >build/package-test-deb.log 2>&1 ||
  { tail -n 30 build/package-test-deb.log >&2; fail "make deb failed"; }
debs=()
for package in "${PACKAGES[@]}"; do
  deb="$DEB_DIR/${package}_${version}_$(dpkg --print-architecture).deb"
  [ -f "$deb" ] || fail "make deb made no $deb"
  debs+=("./$deb")
done
lintian -I --pedantic "$DEB_DIR"/*.deb >"$work/lintian.log" 2>&1 || true
summary=$( (grep -oE '^[EWIPNOX]:' "$work/lintian.log" || true) | sort | uniq -c | tr -s ' \n' ' ')
say "lintian -I --pedantic: ${summary:-no tags} (E errors, W warnings, I info, P pedantic, N notes)"
# Warnings too: each is fixed or overridden with its reason (debian/*.lintian-overrides).
if grep -E '^(E|W):' "$work/lintian.log" >&2; then fail "lintian reports errors or warnings"; fi

# 2. Install (apt-get resolves the dependencies; --reinstall replaces an installed build).
installed=true
say "apt-get install ${debs[*]}"
DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall -o DPkg::Lock::Timeout=120 \
  -o Dpkg::Options::=--force-confnew "${debs[@]}" >"$work/install.log" 2>&1 ||
  fail "apt-get install failed"
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status} ${Version}' "$package" | grep -qx "install ok installed $version" ||
    fail "$package $version is not installed"
done

# 3. What went where.
for program in ps.fcgi webcam.fcgi; do
  [ -x "/usr/sbin/$program" ] || fail "/usr/sbin/$program is missing"
  out=$("/usr/sbin/$program" --version) || fail "$program --version failed"
  [ "$out" = "$program $version" ] || fail "$program --version says '$out', not '$program $version'"
  zcat "/usr/share/man/man8/$program.8.gz" | grep -q "^$program \\\\- [a-zA-Z]" ||
    fail "the man page of $program has no NAME line with a summary"
done
cmp -s nginx-conf/pushcgi.conf /etc/nginx/snippets/pushcgi.conf ||
  fail "/etc/nginx/snippets/pushcgi.conf is not nginx-conf/pushcgi.conf"
cmp -s apache-conf/pushcgi-proxy-fcgi.conf /etc/apache2/conf-available/pushcgi.conf ||
  fail "/etc/apache2/conf-available/pushcgi.conf is not apache-conf/pushcgi-proxy-fcgi.conf"
[ ! -e /etc/apache2/conf-enabled/pushcgi.conf ] || fail "the Apache configuration is enabled"
for example in apache2/pushcgi-h2.conf apache2/pushcgi-fcgid.conf nginx/pushcgi-h2-site.conf; do
  [ -f "/usr/share/doc/pushcgi/examples/$example" ] || fail "examples/$example is missing"
done
getent passwd pushcgi | grep -q ':/nonexistent:/usr/sbin/nologin$' ||
  fail "no pushcgi system user (with home /nonexistent, shell nologin)"
[ "$(id -u pushcgi)" -lt 1000 ] || fail "the pushcgi user is not a system user"
for unit in "${UNITS[@]}"; do
  grep -qx 'User=pushcgi' "$UNIT_DIR/$unit.service" || fail "$unit.service has no User=pushcgi"
  grep -q '^ExecStart=/usr/sbin/' "$UNIT_DIR/$unit.service" ||
    fail "$unit.service does not run /usr/sbin/..."
  [ "$(readlink "/etc/systemd/system/sockets.target.wants/$unit.socket")" = \
    "$UNIT_DIR/$unit.socket" ] || fail "$unit.socket is not enabled (sockets.target.wants)"
  [ ! -e "/etc/systemd/system/multi-user.target.wants/$unit.service" ] ||
    fail "$unit.service is enabled: only the socket should be"
done
for pc in pushcgi pushcgi-jpeg; do
  libdir=$(env -u PKG_CONFIG_PATH pkg-config --variable=libdir "$pc") ||
    fail "pkg-config does not find $pc"
  [ "$libdir" = "/usr/lib/$multiarch" ] ||
    fail "pkg-config's $pc has libdir $libdir, not /usr/lib/$multiarch (another install first?)"
  [ "$(env -u PKG_CONFIG_PATH pkg-config --modversion "$pc")" = "$version" ] ||
    fail "pkg-config's $pc is not version $version"
done
[ -f "/usr/lib/$multiarch/libpushcgi.a" ] || fail "/usr/lib/$multiarch/libpushcgi.a is missing"

# 4. The programs as their units start them, behind nginx with the installed snippet.
[ -d /run/pushcgi ] || run_dir_made=true
for unit in "${UNITS[@]}"; do
  path=$(sed -n 's/^ListenStream=//p' "$UNIT_DIR/$unit.socket")
  [ "$path" = "$(socket_path "$unit")" ] || fail "$unit.socket listens on $path"
  tests/package/activate.py "$UNIT_DIR" "$unit" "$work/$unit.log" &
  pids+=($!)
  sockets_made+=("$path")
  wait_for 10 listening "$path" || fail "$unit does not listen on $path within 10 s"
  [ "$(stat -c '%U:%G %a' "$path")" = "root:www-data 660" ] ||
    fail "$path is $(stat -c '%U:%G %a' "$path"), not root:www-data 660"
  # The helper makes the socket under another name and renames it when it is ready: its
  # owner and mode are right from the first connection. The process then becomes the
  # program, as the unit's user.
  program=$(sed -n 's|^ExecStart=\([^ ]*\).*|\1|p' "$UNIT_DIR/$unit.service")
  wait_for 10 test "$(readlink "/proc/${pids[-1]}/exe")" = "$program" ||
    fail "$unit is not $program after 10 s"
  [ "$(ps -o user= -p "${pids[-1]}")" = pushcgi ] || fail "$unit does not run as pushcgi"
done
ps_pid=${pids[0]}

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
user www-data;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 64; }
http {
    access_log $work/nginx-access.log;
    client_body_temp_path $work/nginx/body;
    fastcgi_temp_path $work/nginx/fastcgi;
    proxy_temp_path $work/nginx/proxy;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    server {
        listen 127.0.0.1:$port;
        include /etc/nginx/snippets/pushcgi.conf;
    }
}
CONF
nginx -p "$work/nginx/" -c "$work/nginx/nginx.conf" -e "$work/nginx-error.log" \
  -g 'daemon off;' &
nginx_pid=$!
pids+=("$nginx_pid")
base="http://127.0.0.1:$port"
wait_for 10 curl -s -o /dev/null -m 2 "$base/" || fail "nginx does not answer on $base within 10 s"
[ "$(ps -o user= --ppid "$nginx_pid")" = www-data ] || fail "nginx's worker does not run as www-data"

head=$(curl -sS -m 10 -o "$work/ps.html" -w '%{http_code} %{content_type}' "$base/ps/") ||
  fail "GET /ps/ failed"
[[ "$head" == "200 text/html"* ]] || fail "GET /ps/ answered '$head', not 200 text/html"
# Its rows: PID, parent, user, state, CPU, memory, start, command. Our own ps.fcgi (as
# pushcgi) and nginx master must be there: other programs of the machine do not count.
row() { grep -qE "^<tr><td>$1</td><td>[0-9]+</td><td class=\"l\">$2</td>.*<td class=\"l\">$3</td></tr>" \
          "$work/ps.html"; }
row "$ps_pid" pushcgi ps.fcgi || fail "/ps/ does not list ps.fcgi (PID $ps_pid, user pushcgi)"
row "$nginx_pid" root nginx || fail "/ps/ does not list the test nginx (PID $nginx_pid)"
say "GET /ps/: $head, $(wc -c <"$work/ps.html") bytes, lists ps.fcgi and nginx by PID"

# The stream for 4 s: curl ends it (status 28, the time limit).
code=0
curl -sS -N -m 4 -D "$work/stream.head" -o "$work/stream.body" "$base/webcam/stream" \
  2>/dev/null || code=$?
[ "$code" -eq 28 ] || fail "GET /webcam/stream ended with curl status $code, not by the time limit"
grep -qi '^Content-Type: multipart/x-mixed-replace; *boundary=' "$work/stream.head" ||
  fail "/webcam/stream is not multipart/x-mixed-replace: $(head -n 1 "$work/stream.head")"
parts=$(python3 - "$work/stream.body" <<'PY'
import sys
body = open(sys.argv[1], "rb").read()
# Parts announced as JPEG whose body, after the part's header block, starts a JPEG (SOI).
print(min(body.count(b"Content-Type: image/jpeg\r\n"), body.count(b"\r\n\r\n\xff\xd8\xff")))
PY
)
[ "$parts" -ge 2 ] || fail "/webcam/stream sent $parts JPEG parts in 4 s, not at least 2"
say "GET /webcam/stream: multipart/x-mixed-replace, $parts JPEG parts in 4 s"

# /metrics (and /state) through the installed snippet: for this host, and 403 for any other
# address (127.0.0.2 is this machine too, but not one the snippet lets in).
metrics=$(curl -sS -m 10 "$base/webcam/metrics") || fail "GET /webcam/metrics failed"
grep -q '^pushcgi_streams_started_total{route="/stream"} [1-9]' <<<"$metrics" ||
  fail "/webcam/metrics does not count the stream above: $(head -c 300 <<<"$metrics")"
grep -q '^pushcgi_build_info{version="'"$version"'"} 1$' <<<"$metrics" ||
  fail "/webcam/metrics does not say version $version"
for target in /ps/metrics /ps/state /webcam/metrics /webcam/state; do
  code=$(curl -sS -m 10 --interface 127.0.0.2 -o /dev/null -w '%{http_code}' "$base$target") ||
    fail "GET $target from 127.0.0.2 failed"
  [ "$code" = 403 ] || fail "GET $target from 127.0.0.2 answered $code, not 403"
done
say "GET /webcam/metrics: counts the stream, version $version; /metrics and /state: 403 from 127.0.0.2"

# 5. An example against the installed library, with pkg-config alone, run once as CGI.
flags=$(env -u PKG_CONFIG_PATH pkg-config --cflags --libs pushcgi)
# shellcheck disable=SC2086  # the flags are words
g++ examples/hello_push.cpp $flags -o "$work/hello_push" 2>"$work/compile.log" ||
  fail "examples/hello_push.cpp does not build with: pkg-config --cflags --libs pushcgi ($flags)"
code=0
env -i PATH=/usr/bin:/bin GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET SCRIPT_NAME=/hello \
  PATH_INFO=/ QUERY_STRING= SERVER_PROTOCOL=HTTP/1.1 HTTP_USER_AGENT=curl/7.88.1 \
  timeout 3 "$work/hello_push" </dev/null >"$work/hello.out" 2>"$work/hello.log" || code=$?
[ "$code" -eq 124 ] || fail "hello_push as CGI ended with status $code before its 3 s"
head -n 1 "$work/hello.out" | grep -qx $'Status: 200 OK\r' ||
  fail "hello_push's CGI output starts with '$(head -n 1 "$work/hello.out")', not Status: 200 OK"
boundary=$(sed -n $'/^\r$/q; s/^Content-Type: multipart\\/x-mixed-replace; *boundary=\\([^[:space:]]*\\).*/\\1/p' \
  "$work/hello.out")
[ -n "$boundary" ] || fail "hello_push's CGI head has no multipart/x-mixed-replace Content-Type"
grep -qx '2' "$work/hello.out" && grep -qx -- "--$boundary--"$'\r' "$work/hello.out" ||
  fail "hello_push's CGI stream lacks its second part or its close delimiter after SIGTERM"
say "hello_push built with pkg-config ($flags); as CGI: 200, multipart, closed on SIGTERM"
# The JPEG checks and frame sources with pushcgi-jpeg.pc: libpushcgi-dev's Depends must
# bring what its Requires name.
jpeg_flags=$(env -u PKG_CONFIG_PATH pkg-config --cflags --libs pushcgi-jpeg)
# shellcheck disable=SC2086  # the flags are words
g++ tests/install/jpeg_user.cpp $jpeg_flags -o "$work/jpeg_user" 2>"$work/compile-jpeg.log" ||
  fail "tests/install/jpeg_user.cpp does not build with: pkg-config --cflags --libs pushcgi-jpeg"
"$work/jpeg_user" >/dev/null || fail "jpeg_user, built against the installed library, failed"
say "jpeg_user built with pushcgi-jpeg.pc and ran"

# 6. Purge, and nothing left behind: also an Apache configuration the administrator enabled
# (a link to a purged file would keep Apache from starting).
a2enconf -q pushcgi || fail "a2enconf pushcgi failed"
stop_all
pgrep -u pushcgi >/dev/null && fail "processes of the pushcgi user are still running"
dpkg -L "${PACKAGES[@]}" >"$work/files" || fail "dpkg -L failed"
installed=false
purge || fail "apt-get purge failed"
for package in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ -z "$status" ] || [ "$status" = not-installed ] || fail "$package is $status after the purge"
done
left=()
while IFS= read -r path; do
  [ -n "$path" ] && [ -e "$path" ] || continue
  # A directory stays when another package owns it (/usr/share/doc, /etc/nginx/snippets;
  # dpkg -L begins with "/.").
  if [ -d "$path" ] && { [ "$path" = /. ] || dpkg-query -S "$path" >/dev/null 2>&1; }; then
    continue
  fi
  left+=("$path")
done <"$work/files"
while IFS= read -r path; do left+=("$path"); done < <(
  find /etc /lib /usr /var/lib/systemd /var/lib/dpkg/info -path /usr/local -prune -o \
    -name '*pushcgi*' -print 2>/dev/null)
[ ! -L /etc/apache2/conf-enabled/pushcgi.conf ] ||
  fail "the purge left /etc/apache2/conf-enabled/pushcgi.conf behind"
[ ${#left[@]} -eq 0 ] || fail "left after purge: ${left[*]}"
# Debian leaves system users on purge (files the user owned may still exist elsewhere):
# pushcgi stays, and nothing runs as it.
getent passwd pushcgi >/dev/null || fail "the purge removed the pushcgi user"
say "purged: nothing of the packages is left; the pushcgi user stays (Debian convention)"
say "passed in $(($(date +%s) - start)) s"
