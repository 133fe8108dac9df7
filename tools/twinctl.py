"""Client side of the twin's control channel, and a helper that starts a twin for tests and tools."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONTROL_PORT = 14059


class TwinError(Exception):
    pass


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One JSON-line request per call to a running twin's control port."""

    def __init__(self, port=DEFAULT_CONTROL_PORT, host="127.0.0.1"):
        self.addr = (host, port)
        self._id = 0

    def cmd(self, name, timeout=60, **args):
        self._id += 1
        req = dict(args, cmd=name, id=self._id)
        with socket.create_connection(self.addr, timeout=timeout) as s:
            s.sendall(json.dumps(req).encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    raise TwinError("control channel closed during %s" % name)
                buf += chunk
        reply = json.loads(buf)
        if not reply.get("ok"):
            raise TwinError("%s: %s" % (name, reply.get("error")))
        return reply

    def status(self):
        return self.cmd("status")

    def advance(self, seconds, timeout=600):
        return self.cmd("advance", seconds=seconds, timeout=timeout)


class Twin:
    """A twin process on free ports with its own flash folder, for tests: `with Twin() as t: ...`."""

    def __init__(self, flash=None, routes=(), heap=None, dlms_port=None, extra=(), wdt_ms=None, wrap=()):
        self._own_flash = flash is None
        self.flash = flash or tempfile.mkdtemp(prefix="twin-flash-")
        self.routes = list(routes)
        self.heap = heap
        self.dlms_port = dlms_port or free_port()
        self.control_port = free_port()
        self.extra = list(extra)
        self.wdt_ms = wdt_ms
        self.wrap = list(wrap)  # a command the twin runs under, e.g. strace
        self.proc = None
        self.client = Client(self.control_port)
        self.log_path = os.path.join(self.flash, "twin.log")

    def start(self, timeout=30):
        args = self.wrap + [
            sys.executable, os.path.join(ROOT, "tools", "twin.py"), "run", "--quiet",
            "--flash", self.flash, "--dlms-port", str(self.dlms_port), "--control-port", str(self.control_port),
        ]
        for r in self.routes:
            args += ["--route", r]
        if self.heap:
            args += ["--heap", str(self.heap)]
        if self.wdt_ms:
            args += ["--wdt-ms", str(self.wdt_ms)]
        args += self.extra
        self.proc = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.DEVNULL)
        self.wait_ready(timeout=timeout)
        return self

    def wait_ready(self, boots=None, timeout=30):
        """Wait until the device is up and its DLMS port listens (and, with boots, has booted that many times)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise TwinError("twin exited with %s; log: %s" % (self.proc.returncode, self.log_tail()))
            try:
                st = self.client.status()
                last = st
                dev = st.get("device")
                listening = dev and (dev.get("dlms") or {}).get("listening")
                if st["twin"]["state"] == "running" and listening and (boots is None or dev["boots"] >= boots):
                    return st
            except (OSError, TwinError, ValueError):
                pass
            time.sleep(0.05)
        raise TwinError("twin not ready in %ss (last status %s); log: %s" % (timeout, last, self.log_tail()))

    def cmd(self, name, **args):
        return self.client.cmd(name, **args)

    def status(self):
        return self.client.status()

    def advance(self, seconds, timeout=600):
        return self.client.advance(seconds, timeout=timeout)

    def log_tail(self, n=40):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.client.cmd("stop", timeout=5)
            except (OSError, TwinError, ValueError):
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._own_flash:
            shutil.rmtree(self.flash, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
