"""The twin's control link, device side: JSON-line commands from tools/twin.py (status, advance, probes)."""
# Commands arrive from the supervisor over one loopback connection; each is
# {"id": n, "cmd": name, ...} and gets {"id": n, "ok": true, ...} or
# {"id": n, "ok": false, "error": text}. They are handled one at a time.
import json
import time

import asyncio


class ControlLink:
    def __init__(self, board, app, port):
        self.board = board
        self.app = app
        self.port = port
        self._buf = bytearray(4096)

    async def run(self):
        if not self.port:
            return
        while True:
            try:
                s = await self.board.net.connect_internal(self.port)
                await s.write(b"CTRL\n")
                await self._serve(s)
            except OSError as e:
                print("twin: control link: %r" % e)
            await asyncio.sleep_ms(200)

    async def _serve(self, s):
        pending = b""
        while True:
            n = await s.readinto(self._buf)
            if not n:
                await s.close()
                return
            pending += bytes(self._buf[:n])
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if line.strip():
                    reply = await self._handle(line)
                    await s.write(json.dumps(reply).encode() + b"\n")

    async def _handle(self, line):
        rid = None
        try:
            req = json.loads(line)
            rid = req.get("id")
            fn = getattr(self, "cmd_" + req["cmd"].replace("-", "_"), None)
            if fn is None:
                raise ValueError("unknown command %r" % req["cmd"])
            r = await fn(req)
            r["id"] = rid
            r["ok"] = True
            return r
        except Exception as e:
            return {"id": rid, "ok": False, "error": repr(e)}

    async def cmd_status(self, req):
        return {"device": self.app.status(), "board": self.board.status()}

    async def cmd_advance(self, req):
        ms = int(float(req["seconds"]) * 1000)
        steps = await self.board.vclock.advance(ms)
        return {"steps": steps, "ticks_ms": self.board.vclock.ticks_ms()}

    async def cmd_arm_cut(self, req):
        self.board.flash.arm(int(req["writes"]))
        return {"armed_at": self.board.flash.cut_at}

    async def cmd_block(self, req):
        # A stuck loop, on purpose: nothing else runs, so nothing feeds the watchdog.
        time.sleep(float(req["seconds"]))
        return {}

    async def cmd_net_probe(self, req):
        """Dial host:port through the device's own network path and exchange one message."""
        net = self.board.net
        try:
            s = await net.connect(req["host"], int(req["port"]), 3000)
        except OSError as e:
            return {"connected": False, "errno": e.args[0]}
        try:
            await s.write(req.get("send", "probe\n").encode())
            buf = bytearray(256)
            try:
                n = await asyncio.wait_for_ms(s.readinto(buf), 2000)
            except asyncio.TimeoutError:
                n = 0
            return {"connected": True, "reply": bytes(buf[:n]).decode()}
        finally:
            await s.close()

    async def cmd_meter(self, req):
        """Change the emulated E350's load (I, U, pf per phase, export) or active rate; returns its state."""
        ch = req.get("set") or {}
        if ch:
            self.board.meter.set_load(ch)
        return {"meter": self.board.meter.status()}

    async def cmd_outage(self, req):
        """One phase of the meter out for a while (the three together are the supervisor's power cut)."""
        self.board.meter.fail_phase(int(req["phase"]), float(req["seconds"]))
        return {"meter": self.board.meter.status()}
