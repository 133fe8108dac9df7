"""The application: the subsystems wired to a board and run under one supervisor (design.md, firmware inside)."""
import asyncio

from firmware import clock, defaults
from firmware.sched import Supervisor
from firmware.store import Store

_EVENTS_KEPT = 64  # in RAM until the event logs (1.0.99.98.x) get their flash rings

_WDT_MS = 8000  # the STM32 IWDG allows up to 32 s; 8 s catches a stuck loop quickly


class App:
    def __init__(self, board):
        self.board = board
        clock.init(board.clock, board.rtc)
        # The watchdog first, so the rest of the boot is watched too.
        self.wdt = board.wdt(_WDT_MS)
        self.boot_ticks = clock.ticks_ms()
        self.fs = board.mount_data()
        d = board.DATA
        self.config = Store(d + "/config.json", defaults.CONFIG).load()
        self.state = Store(d + "/state.json", {"boots": 0, "reset_cause": None}).load()
        self.reset_cause = board.reset_cause()
        # Counting boots writes the flash on every start: the twin's power-cut
        # tests rely on boot being a real flash transaction, as it is here.
        self.state.update({"boots": self.state.get("boots") + 1, "reset_cause": self.reset_cause})
        self.factory = board.factory()
        self.firmware_version = defaults.FIRMWARE_VERSION
        self.events = []
        # Feed at a quarter of the timeout the watchdog really has (a board
        # or the twin may set another than asked for).
        wdt_ms = getattr(self.wdt, "timeout_ms", _WDT_MS)
        self.sup = Supervisor(wdt=self.wdt, feed_ms=max(100, wdt_ms // 4), on_crash=self._crashed)
        self._build()

    def _build(self):
        from firmware.cosem.model import Model
        from firmware.dlms.server import Server
        from firmware.dlms.tcp import DlmsTcp
        from firmware.meter.reader import MeterReader
        from firmware.meter.values import MeterValues
        from hal.e350 import E350Link

        self.meter = MeterValues()
        self.reader = MeterReader(E350Link(self.board.meter_uart), self.meter)
        self.model = Model(self)
        self.dlms = Server(self.model, self._secret, self.event)
        self.tcp = DlmsTcp(self.board.net, self.dlms, lambda: self.config.get("PORT"), lambda: self.config.get("INACT"))

    def set_port(self, port):
        """PORT (manual 4.2; TCP setup attribute 2): saved, and the DLMS listener moves at once."""
        self.config.update({"PORT": port})
        self.tcp.port_changed()

    def _secret(self, client):
        from firmware.cosem.ic_assoc import SECRET_KEY

        key = SECRET_KEY.get(client)
        return self.config.get(key).encode() if key else None

    def event(self, name, detail=None):
        """Record a module event (authentication failure, clock set, task crash...)."""
        e = (clock.now(), name, detail)
        self.events.append(e)
        if len(self.events) > _EVENTS_KEPT:
            self.events.pop(0)
        print("event: %s %r" % (name, detail))

    def _crashed(self, name, exc):
        self.event("task-crash", name)

    def status(self):
        return {
            "firmware": defaults.FIRMWARE_VERSION,
            "boots": self.state.get("boots"),
            "reset_cause": self.reset_cause,
            "uptime_ms": clock.ticks_diff(clock.ticks_ms(), self.boot_ticks),
            "ticks_ms": clock.ticks_ms(),
            "rtc": clock.now(),
            "rtc_valid": clock.rtc_valid(),
            "fs": self.fs,
            "config": dict(self.config.values, PWD="***"),
            "tasks": self.sup.status(),
            "crashes": self.sup.crashes,
            "serial": self.factory.get("serial"),
            "dlms": self.tcp.status(),
            "meter": {
                "serial": self.meter.serial,
                "readouts": self.meter.readouts,
                "failures": self.meter.failures,
                "last_error": self.meter.last_error,
                "when": self.meter.when,
            },
            "events": [list(e) for e in self.events[-20:]],
            "heap": _heap(),
        }

    async def run(self):
        for name, factory in self.board.services(self):
            self.sup.start(name, factory)
        self.sup.start("meter", self.reader.run)
        self.sup.start("dlms", self.tcp.run)
        await self.sup.watchdog()


def _heap():
    import gc

    try:
        return {"free": gc.mem_free(), "used": gc.mem_alloc()}
    except AttributeError:  # CPython
        return None


def main(board):
    app = App(board)
    asyncio.run(app.run())
