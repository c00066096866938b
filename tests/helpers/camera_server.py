#!/usr/bin/python3
"""A stand-in IP camera for the tests of webcam.fcgi's http:// source.

    camera_server.py --port-file FILE --jpeg FILE [--fps N]
                     [--auth basic|digest --user U --password P] [--boundary B] [--no-length]
                     [--snapshot-type TYPE] [--bare]

Listens on 127.0.0.1 (an ephemeral port, written to --port-file once it listens) and serves:
  GET /video         multipart/x-mixed-replace of image/jpeg parts, the newest frame each
                     1/fps (with Content-Length unless --no-length), as cheap cameras do;
                     --bare: the JPEGs one after the other as application/octet-stream
                     (ffmpeg -f mjpeg served over HTTP);
  GET /snapshot.jpg  the newest frame, one JPEG per request (HTTP/1.1 keep-alive), with
                     Content-Type: image/jpeg or --snapshot-type (application/octet-stream,
                     text/plain, as cheap cameras say);
  GET /control?fault=NAME
                     sets a fault for the open connections and the next ones (200 "ok"):
                     none (clears), drop (each open stream is cut in the middle of its next
                     frame, once), stall (streams send nothing, connections stay open),
                     401 / 404 (requests get that status, open streams are closed),
                     garbage (parts whose bodies are no JPEG), boundary (open streams switch
                     to a delimiter their head did not declare; new streams declare a new
                     boundary), silent (requests get no answer until cleared, connections
                     stay open), big_header (answers carry 400 KB of headers), one_frame
                     (streams end after one whole frame);
  GET /stats         JSON: streams_open, streams_total, snapshots_total, auth_failures,
                     requests_total, connections_total (TCP connections that asked for
                     /video or /snapshot.jpg: 1 for any number of kept-alive snapshots).
With --auth, /video and /snapshot.jpg need the credentials (Basic, or Digest with MD5 and
qop=auth); /control and /stats never do.

Frame N (1, 2, 3, ... since the start) is the --jpeg file with a COM segment
"camera-frame N" after its SOI: a valid JPEG that differs each frame, whose number a test
reads back from the bytes a viewer of the relay got.
"""
import argparse
import base64
import hashlib
import json
import os
import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

FAULTS = {"none", "drop", "stall", "401", "404", "garbage", "boundary", "silent", "big_header",
          "one_frame"}


def numbered_jpeg(jpeg, number):
    text = b"camera-frame %d" % number
    return jpeg[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[2:]


class Camera:
    """The frames, the fault and the figures, shared by every connection."""

    def __init__(self, jpeg, fps):
        self.jpeg = jpeg
        self.period = 1.0 / fps
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.fault = "none"
        self.fault_serial = 0  # a new fault (even the same one again) is a new event
        self.stats = {"streams_open": 0, "streams_total": 0, "snapshots_total": 0,
                      "auth_failures": 0, "requests_total": 0, "connections_total": 0}

    def number(self):
        return int((time.monotonic() - self.started) / self.period) + 1

    def frame(self, number):
        return numbered_jpeg(self.jpeg, number)

    def count(self, name, delta=1):
        with self.lock:
            self.stats[name] += delta

    def set_fault(self, fault):
        with self.lock:
            self.fault = fault
            self.fault_serial += 1

    def current_fault(self):
        with self.lock:
            return self.fault, self.fault_serial


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "TestCamera/1.0"

    def log_message(self, format, *args):  # quiet: the tests read their own figures
        pass

    @property
    def camera(self):
        return self.server.camera

    def setup(self):
        super().setup()
        self.counted = False  # this connection in connections_total

    def do_GET(self):
        self.camera.count("requests_total")
        url = urlsplit(self.path)
        if url.path == "/control":
            fault = parse_qs(url.query).get("fault", [""])[0]
            if fault not in FAULTS:
                return self.reply(400, "text/plain", b"unknown fault\n")
            self.camera.set_fault(fault)
            return self.reply(200, "text/plain", b"ok\n")
        if url.path == "/stats":
            with self.camera.lock:
                body = json.dumps(self.camera.stats).encode() + b"\n"
            return self.reply(200, "application/json", body)
        if url.path not in ("/video", "/snapshot.jpg"):
            return self.reply(404, "text/plain", b"not found\n")
        if not self.counted:
            self.counted = True
            self.camera.count("connections_total")
        if not self.authorized():
            return None
        fault, _ = self.camera.current_fault()
        while fault == "silent" and not self.server.stopping:
            time.sleep(0.05)
            fault, _ = self.camera.current_fault()
        if fault in ("401", "404"):
            return self.reply(int(fault), "text/plain", b"fault %s\n" % fault.encode())
        if url.path == "/snapshot.jpg":
            self.camera.count("snapshots_total")
            return self.reply(200, self.server.options.snapshot_type,
                              self.camera.frame(self.camera.number()))
        return self.stream()

    def reply(self, status, content_type, body, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.big_header()
        self.end_headers()
        self.wfile.write(body)

    def big_header(self):
        camera_path = urlsplit(self.path).path in ("/video", "/snapshot.jpg")
        if camera_path and self.camera.current_fault()[0] == "big_header":
            for n in range(400):
                self.send_header("X-Padding-%d" % n, "x" * 1000)

    # Authentication: Basic, or Digest (RFC 7616, MD5, qop=auth).
    def authorized(self):
        options = self.server.options
        if not options.auth:
            return True
        given = self.headers.get("Authorization", "")
        if options.auth == "basic":
            expected = base64.b64encode(f"{options.user}:{options.password}".encode()).decode()
            if given == "Basic " + expected:
                return True
            challenge = 'Basic realm="camera"'
        else:
            if given.startswith("Digest ") and self.digest_ok(given[7:]):
                return True
            challenge = ('Digest realm="camera", qop="auth", algorithm=MD5, nonce="%s"' %
                         self.server.nonce)
        self.camera.count("auth_failures")
        self.reply(401, "text/plain", b"unauthorized\n", [("WWW-Authenticate", challenge)])
        return False

    def digest_ok(self, text):
        fields = {}
        for item in split_digest_fields(text):
            name, _, value = item.partition("=")
            fields[name.strip().lower()] = value.strip().strip('"')
        options = self.server.options

        def md5(s):
            return hashlib.md5(s.encode()).hexdigest()

        if fields.get("username") != options.user or fields.get("nonce") != self.server.nonce:
            return False
        ha1 = md5(f"{options.user}:camera:{options.password}")
        ha2 = md5(f"GET:{fields.get('uri', '')}")
        expected = md5(f"{ha1}:{fields.get('nonce')}:{fields.get('nc', '')}:"
                       f"{fields.get('cnonce', '')}:{fields.get('qop', '')}:{ha2}")
        return (fields.get("qop") == "auth" and fields.get("uri") == self.path and
                secrets.compare_digest(expected, fields.get("response", "")))

    # The MJPEG stream.
    def stream(self):
        boundary = self.server.next_boundary()
        self.send_response(200)
        bare = self.server.options.bare
        self.send_header("Content-Type", "application/octet-stream" if bare else
                         "multipart/x-mixed-replace; boundary=" + boundary)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.big_header()
        self.end_headers()
        self.close_connection = True
        camera = self.camera
        camera.count("streams_open")
        camera.count("streams_total")
        _, seen_serial = camera.current_fault()
        new_fault = False  # set since the last frame this stream sent
        delimiter = boundary
        last = 0
        try:
            while not self.server.stopping:
                fault, serial = camera.current_fault()
                new_fault = new_fault or serial != seen_serial
                seen_serial = serial
                if fault in ("401", "404"):
                    return
                if fault == "stall":
                    new_fault = False
                    time.sleep(0.05)
                    continue
                number = camera.number()
                if number == last:
                    time.sleep(min(camera.period / 4, 0.02))
                    continue
                last = number
                if fault == "boundary" and new_fault:
                    delimiter = "changed" + secrets.token_hex(8)
                body = camera.frame(number)
                if fault == "garbage":
                    body = (b"<html>not a picture %d</html>\n" % number) * 20
                head = b"--" + delimiter.encode() + b"\r\nContent-Type: image/jpeg\r\n"
                if not self.server.options.no_length:
                    head += b"Content-Length: %d\r\n" % len(body)
                head += b"\r\n"
                if bare:
                    head = b""
                if fault == "drop" and new_fault:
                    self.wfile.write(head + body[: len(body) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(head + body + (b"" if bare else b"\r\n"))
                self.wfile.flush()
                new_fault = False
                if fault == "one_frame":
                    return
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        finally:
            camera.count("streams_open", -1)


def split_digest_fields(text):
    """Splits 'a="x, y", b=z' at the commas outside quotes."""
    items, current, quoted = [], "", False
    for c in text:
        if c == '"':
            quoted = not quoted
        if c == "," and not quoted:
            items.append(current)
            current = ""
        else:
            current += c
    if current.strip():
        items.append(current)
    return items


class CameraServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, options, camera):
        super().__init__(("127.0.0.1", 0), Handler)
        self.options = options
        self.camera = camera
        self.nonce = secrets.token_hex(16)
        self.stopping = False
        self.boundaries = 0
        self.boundary_lock = threading.Lock()

    def next_boundary(self):
        """The declared boundary: options.boundary, another one after a boundary fault."""
        fault, serial = self.camera.current_fault()
        with self.boundary_lock:
            if fault == "boundary":
                return "%s-%d" % (self.options.boundary, serial)
            return self.options.boundary


def main():
    parser = argparse.ArgumentParser(description="A stand-in IP camera for tests.")
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--jpeg", required=True)
    parser.add_argument("--fps", type=float, default=10)
    parser.add_argument("--auth", choices=["basic", "digest"])
    parser.add_argument("--user", default="")
    parser.add_argument("--password", default="")
    parser.add_argument("--boundary", default="myboundary")
    parser.add_argument("--no-length", action="store_true")
    parser.add_argument("--snapshot-type", default="image/jpeg")
    parser.add_argument("--bare", action="store_true")
    options = parser.parse_args()
    with open(options.jpeg, "rb") as f:
        jpeg = f.read()
    if not jpeg.startswith(b"\xff\xd8") or options.fps <= 0:
        parser.error("--jpeg must be a JPEG file and --fps positive")
    server = CameraServer(options, Camera(jpeg, options.fps))
    temporary = options.port_file + ".tmp"
    with open(temporary, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(temporary, options.port_file)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stopping = True


if __name__ == "__main__":
    main()
