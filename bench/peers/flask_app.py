"""The Flask generator recipe, as people copy it: one background thread takes frames from the
camera, every viewer's generator waits for the next one and yields a multipart part.

Peer for bench/run.py, run under gunicorn with threads:
    PUSHCGI_FEEDER=build/bench/feeder gunicorn -k gthread --threads 1100 flask_app:app
The camera is bench/feeder writing the testcard as MJPEG to a pipe (no shell).
"""
import os
import subprocess
import threading
import time

from flask import Flask, Response


class Camera:
    """One reader of the camera for all viewers (the recipe's BaseCamera)."""

    def __init__(self, command):
        self.frame = None
        self.condition = threading.Condition()
        self.thread = threading.Thread(target=self._run, args=(command,), daemon=True)
        self.thread.start()

    def _run(self, command):
        feeder = subprocess.Popen(command, stdout=subprocess.PIPE)
        pending = b""
        while True:
            chunk = feeder.stdout.read1(65536)
            if not chunk:
                return
            pending += chunk
            while True:
                end = pending.find(b"\xff\xd9")
                if end < 0:
                    break
                frame, pending = pending[: end + 2], pending[end + 2 :]
                with self.condition:
                    self.frame = frame
                    self.condition.notify_all()

    def frames(self):
        last = None
        while True:
            with self.condition:
                while self.frame is last:
                    self.condition.wait()
                last = self.frame
            yield last


app = Flask(__name__)
camera = Camera([os.environ.get("PUSHCGI_FEEDER", "feeder"), "--stdout", "--fps", "15"])


def generate():
    for frame in camera.frames():
        yield b"--frame\r\nContent-Type: image/jpeg\r\n\r\n" + frame + b"\r\n"


@app.route("/stream")
def stream():
    return Response(generate(), mimetype="multipart/x-mixed-replace; boundary=frame")


@app.route("/")
def index():
    return "<img src='stream'>"
