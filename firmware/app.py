"""The application: the subsystems wired to a board and run under one supervisor (design.md, firmware inside)."""
import asyncio

from firmware import clock, defaults
from firmware.sched import Supervisor
from firmware.store import Store

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
        self.sup = Supervisor(wdt=self.wdt, feed_ms=1000, on_crash=self._crashed)

    def _crashed(self, name, exc):
        pass  # the module event log (1.0.99.98.3.255) records this once it exists

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
        }

    async def run(self):
        for name, factory in self.board.services(self):
            self.sup.start(name, factory)
        await self.sup.watchdog()


def main(board):
    app = App(board)
    asyncio.run(app.run())
