"""The digital twin's command line: run the device on the MicroPython unix port, and drive a running one.

  twin.py run [--dlms-port N] [--control-port N] [--flash DIR] [--heap SIZE] [--route A=B ...]
  twin.py status | advance SECONDS | reset | power-cut [--at-write N] [--off S] [--rtc-lost]
  twin.py load [--current A A A] [--voltage V V V] [--pf x x x] [--export|--import] [--rate R]
  twin.py outage [--phase 1|2|3|all] --seconds S
  twin.py probe HOST PORT | stop

`run` is the hardware around the MCU: it powers the firmware process, restarts
it when the watchdog bites, when the firmware resets itself, or after a power
cut, and serves the control channel on 127.0.0.1 (JSON lines) that the other
subcommands, the tests and tools use. Every socket the twin opens is on
loopback: see boards/unix/sandbox.py.
"""
import argparse
import asyncio
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from twinctl import DEFAULT_CONTROL_PORT, ROOT, Client, TwinError  # noqa: E402

MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
DEFAULT_HEAP = "512wK"  # what the reference board leaves the app (issue 4 sets the budget)


def _check_route(spec):
    left, sep, right = spec.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError("route is A=B: %r" % spec)
    if ":" in left:
        host, _, port = right.rpartition(":")
        if not host.startswith("127.") or not port.isdigit():
            raise argparse.ArgumentTypeError("route target must be 127.x.x.x:PORT (loopback only): %r" % spec)
    return spec


class Supervisor:
    def __init__(self, a):
        self.a = a
        self.flash = os.path.abspath(a.flash)
        os.makedirs(self.flash, exist_ok=True)
        self.log = open(os.path.join(self.flash, "twin.log"), "a", buffering=1)
        self.state = "off"
        self.boots = 0
        self.causes = []
        self.proc = None
        self.ctrl = None  # (reader, writer) of the device's control link
        self.pending = {}
        self.next_id = 0
        self.wdt_ms = None
        self.last_feed = 0.0
        self.restarting = False
        self.stopping = asyncio.Event()
        self.next_boot = {}  # options for the next boot (power-off time, RTC lost)

    def say(self, msg):
        line = "twin: %s" % msg
        self.log.write(line + "\n")
        print(line, flush=True)

    # -- the device process --
    async def launch(self, cause, **extra):
        self.boots += 1
        self.causes.append(cause)
        self.state = "booting"
        self.wdt_ms = None
        opts = {
            "root": ROOT,
            "flash": self.flash,
            "routes": self.a.route,
            "dlms_port": self.a.dlms_port,
            "hw_port": self.hw_port,
            "ctrl_port": self.ctrl_port,
            "reset_cause": cause,
            "wdt_ms": self.a.wdt_ms,
        }
        opts.update(self.next_boot)
        opts.update(extra)
        self.next_boot = {}
        self.proc = await asyncio.create_subprocess_exec(
            MICROPYTHON, "-X", "heapsize=%s" % self.a.heap, os.path.join(ROOT, "boards", "unix", "main.py"),
            json.dumps(opts), cwd=ROOT, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        asyncio.ensure_future(self._pump(self.proc))
        self.say("device started (boot %d, reset cause %s)" % (self.boots, cause))

    async def _pump(self, proc):
        while True:
            line = await proc.stdout.readline()
            if not line:
                break
            text = line.decode(errors="replace").rstrip()
            self.log.write(text + "\n")
            if not self.a.quiet:
                print(text, flush=True)
        rc = await proc.wait()
        if proc is self.proc and not self.restarting and not self.stopping.is_set():
            # The firmware fell out of its loop (an MCU would sit in the REPL):
            # only the watchdog brings it back.
            self.say("device process ended (%s); the watchdog will reset it" % rc)
            self.state = "halted"
            if self.wdt_ms:
                await asyncio.sleep(self.wdt_ms / 1000)
                await self.restart("wdt")

    async def kill(self):
        p = self.proc
        self.proc = None
        self._drop_ctrl()
        if p and p.returncode is None:
            p.kill()
            await p.wait()
        self.state = "off"

    async def restart(self, cause, **extra):
        if self.restarting:
            return
        self.restarting = True
        try:
            await self.kill()
            await self.launch(cause, **extra)
        finally:
            self.restarting = False

    # -- wires from the device: watchdog, reset line, power --
    async def on_hw(self, reader, writer):
        proc = self.proc
        line = b""
        while True:
            data = await reader.read(4096)
            if not data:
                break
            for b in data:
                if b == 0x2E:  # '.': a watchdog feed
                    self.last_feed = time.monotonic()
                    continue
                if b != 0x0A:
                    line += bytes((b,))
                    continue
                await self._hw_line(line.decode(), proc)
                line = b""
        writer.close()

    async def _hw_line(self, line, proc):
        if line.startswith("WDT "):
            self.wdt_ms = int(line[4:])
            self.last_feed = time.monotonic()
        elif line == "R" and proc is self.proc:
            self.say("device reset itself")
            await self.restart("soft")
        elif line == "P" and proc is self.proc:
            self.say("power cut at a flash write")
            await self.restart("power")

    async def watchdog(self):
        while not self.stopping.is_set():
            await asyncio.sleep(0.05)
            if self.wdt_ms and self.proc and not self.restarting:
                if time.monotonic() - self.last_feed > self.wdt_ms / 1000:
                    self.say("watchdog: no feed for %d ms, resetting" % self.wdt_ms)
                    await self.restart("wdt")

    # -- the device's control link --
    async def on_ctrl(self, reader, writer):
        self.ctrl = (reader, writer)
        self.state = "running"
        self.say("device up")
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                msg = json.loads(line)
                fut = self.pending.pop(msg.get("id"), None)
                if fut and not fut.done():
                    fut.set_result(msg)
        finally:
            if self.ctrl and self.ctrl[1] is writer:
                self._drop_ctrl()

    def _drop_ctrl(self):
        if self.ctrl:
            self.ctrl[1].close()
        self.ctrl = None
        for fut in self.pending.values():
            if not fut.done():
                fut.set_exception(TwinError("device went down"))
        self.pending.clear()

    async def on_internal(self, reader, writer):
        hello = await reader.readline()
        if hello == b"HW\n":
            await self.on_hw(reader, writer)
        elif hello == b"CTRL\n":
            await self.on_ctrl(reader, writer)
        else:
            writer.close()

    async def to_device(self, req, timeout=None):
        if not self.ctrl:
            raise TwinError("device is %s" % self.state)
        self.next_id += 1
        rid = self.next_id
        fut = asyncio.get_running_loop().create_future()
        self.pending[rid] = fut
        msg = dict(req, id=rid)
        self.ctrl[1].write(json.dumps(msg).encode() + b"\n")
        return await asyncio.wait_for(fut, timeout)

    # -- the control channel --
    def twin_status(self):
        return {
            "state": self.state,
            "boots": self.boots,
            "reset_causes": self.causes[-20:],
            "control_port": self.a.control_port,
            "dlms_port": self.a.dlms_port,
            "flash": self.flash,
            "wdt_ms": self.wdt_ms,
        }

    def _power_opts(self, req):
        return {"off_seconds": float(req.get("off_seconds") or 0), "rtc_lost": bool(req.get("rtc_lost"))}

    async def handle(self, req):
        cmd = req.get("cmd")
        if cmd == "status":
            r = {"ok": True, "twin": self.twin_status()}
            if self.ctrl:
                try:
                    d = await self.to_device({"cmd": "status"}, timeout=10)
                    r["device"] = d.get("device")
                    r["board"] = d.get("board")
                except (TwinError, asyncio.TimeoutError):
                    pass
            return r
        if cmd == "reset":
            self.say("reset pin")
            extra = {}
            if req.get("cut_at_write"):
                # The flash of the restarted device dies at its N-th write:
                # how boot-time writes are tested.
                extra["cut_at_write"] = int(req["cut_at_write"])
            await self.restart("pin", **extra)
            return {"ok": True}
        if cmd == "power-cut":
            if req.get("at_write"):
                self.next_boot = self._power_opts(req)
                d = await self.to_device({"cmd": "arm-cut", "writes": int(req["at_write"])}, timeout=10)
                return {"ok": True, "armed_at": d.get("armed_at")}
            self.say("power cut")
            await self.restart("power", **self._power_opts(req))
            return {"ok": True}
        if cmd == "outage" and str(req.get("phase")) in ("0", "all"):
            # All three phases: the module is fed from them, so it is a power cut.
            self.say("outage of all phases")
            await self.restart("power", off_seconds=float(req.get("seconds") or 0), rtc_lost=False)
            return {"ok": True}
        if cmd == "stop":
            self.stopping.set()
            return {"ok": True}
        return await self.to_device(req)

    async def on_control(self, reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                rid = None
                try:
                    req = json.loads(line)
                    rid = req.get("id")
                    reply = await self.handle(req)
                except (TwinError, ValueError, KeyError, asyncio.TimeoutError) as e:
                    reply = {"ok": False, "error": str(e) or type(e).__name__}
                reply["id"] = rid
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def run(self):
        internal = await asyncio.start_server(self.on_internal, "127.0.0.1", 0)
        self.hw_port = self.ctrl_port = internal.sockets[0].getsockname()[1]
        control = await asyncio.start_server(self.on_control, "127.0.0.1", self.a.control_port)
        self.say("control on 127.0.0.1:%d, DLMS on 127.0.0.1:%d, flash in %s"
                 % (self.a.control_port, self.a.dlms_port, self.flash))
        wd = asyncio.ensure_future(self.watchdog())
        await self.launch("power")
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        await self.stopping.wait()
        self.say("stopping")
        wd.cancel()
        self.restarting = True
        await self.kill()
        control.close()
        internal.close()


def cmd_run(a):
    try:
        asyncio.run(Supervisor(a).run())
    except OSError as e:
        sys.exit("twin: %s" % e)


def main():
    ap = argparse.ArgumentParser(prog="twin.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run the device as a digital twin")
    r.add_argument("--dlms-port", type=int, default=4059, help="host port for the device's DLMS listener (default 4059)")
    r.add_argument("--control-port", type=int, default=DEFAULT_CONTROL_PORT, help="control channel port (default %d)" % DEFAULT_CONTROL_PORT)
    r.add_argument("--flash", default="flash", help="folder for the flash image, RTC and meter state (default ./flash)")
    r.add_argument("--heap", default=DEFAULT_HEAP, help="MicroPython heap, e.g. 256wK (default %s)" % DEFAULT_HEAP)
    r.add_argument("--route", action="append", default=[], type=_check_route,
                   help="IP:PORT=127.0.0.1:PORT routes a device address to loopback; NAME=IP resolves a name")
    r.add_argument("--wdt-ms", type=int, default=None, help="override the firmware's watchdog timeout")
    r.add_argument("--quiet", action="store_true", help="device output to the log file only")
    for name, hlp in (("status", "device state as JSON"), ("stop", "stop the twin")):
        p = sub.add_parser(name, help=hlp)
        p.add_argument("--control-port", type=int, default=DEFAULT_CONTROL_PORT)
    p = sub.add_parser("reset", help="press the reset pin (flash and RTC are kept)")
    p.add_argument("--cut-at-write", type=int, help="the power dies at the N-th flash write after the reset")
    p.add_argument("--control-port", type=int, default=DEFAULT_CONTROL_PORT)
    p = sub.add_parser("advance", help="move the injected clock forward, firing every timer due on the way")
    p.add_argument("seconds", type=float)
    p.add_argument("--control-port", type=int, default=DEFAULT_CONTROL_PORT)
    p = sub.add_parser("power-cut", help="cut the power now, or at the N-th flash block write from now")
    p.add_argument("--at-write", type=int)
    p.add_argument("--off", type=float, default=0, help="seconds the power stays off (the RTC keeps running)")
    p.add_argument("--rtc-lost", action="store_true", help="the RTC's super-capacitor ran flat")
    p.add_argument("--control-port", type=int, default=DEFAULT_CONTROL_PORT)
    p = sub.add_parser("load", help="set the emulated meter's load per phase")
    p.add_argument("--current", type=float, nargs=3, metavar=("L1", "L2", "L3"), help="amperes")
    p.add_argument("--voltage", type=float, nargs=3, metavar=("L1", "L2", "L3"))
    p.add_argument("--pf", type=float, nargs=3, metavar=("L1", "L2", "L3"), help="power factor")
    p.add_argument("--export", action="store_true", help="power flows into the network")
    p.add_argument("--import", dest="imp", action="store_true", help="power flows from the network (default)")
    p.add_argument("--rate", type=int, help="the meter's active rate 1..6")
    p.add_argument("--control-port", type=int, default=DEFAULT_CONTROL_PORT)
    p = sub.add_parser("outage", help="fail a phase of the meter for a while (all: a power cut of the module)")
    p.add_argument("--phase", default="all", help="1, 2, 3 or all")
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--control-port", type=int, default=DEFAULT_CONTROL_PORT)
    p = sub.add_parser("probe", help="dial HOST PORT through the device's network path")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--control-port", type=int, default=DEFAULT_CONTROL_PORT)
    a = ap.parse_args()
    if a.cmd == "run":
        return cmd_run(a)
    c = Client(a.control_port)
    try:
        if a.cmd == "advance":
            r = c.advance(a.seconds)
        elif a.cmd == "power-cut":
            r = c.cmd("power-cut", at_write=a.at_write, off_seconds=a.off, rtc_lost=a.rtc_lost)
        elif a.cmd == "reset":
            r = c.cmd("reset", cut_at_write=a.cut_at_write)
        elif a.cmd == "probe":
            r = c.cmd("net-probe", host=a.host, port=a.port)
        elif a.cmd == "load":
            ch = {}
            for k, v in (("I", a.current), ("U", a.voltage), ("pf", a.pf), ("rate", a.rate)):
                if v is not None:
                    ch[k] = v
            if a.export or a.imp:
                ch["export"] = a.export
            r = c.cmd("meter", set=ch)
        elif a.cmd == "outage":
            r = c.cmd("outage", phase="all" if a.phase == "all" else int(a.phase), seconds=a.seconds)
        else:
            r = c.cmd(a.cmd)
    except (OSError, TwinError) as e:
        sys.exit("twin: %s" % e)
    r.pop("id", None)
    r.pop("ok", None)
    print(json.dumps(r, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
