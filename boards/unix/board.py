"""The digital twin's board: emulated clock, RTC, flash, watchdog, network sandbox and meter, wired for firmware/."""
# Same role as a real board's board.py: it builds the hardware objects and
# hands them to the firmware, which never imports a board. Everything here
# emulates hardware at its boundary (bytes on a UART, blocks on a flash chip,
# sockets on loopback) so firmware/ and hal/ run unchanged.
import json
import time

import asyncio

from boards import layout
from boards.base import Board as BaseBoard
from boards.unix import euart, evpoll
from boards.unix.blockdev import FlashBlockDev
from boards.unix.e350sim import E350Sim
from boards.unix.pins import Pins
from boards.unix.sandbox import Sandbox
from boards.unix.vclock import ERtc, VClock

# The reference board's data flash chip, as boards/layout.py describes it:
# the image is the whole chip, and the data file system sits on its data
# partition, as on the board.
FLASH_BLOCK_SIZE = layout.BLOCK_SIZE
FLASH_BLOCKS = layout.BLOCKS


def _exists(path):
    try:
        open(path).close()
        return True
    except OSError:
        return False


class _HwLink:
    # The wires to the twin's supervisor (tools/twin.py): watchdog feeds, the
    # reset line and the power supply. One blocking loopback socket, because
    # a reset or a feed must get out even when the loop is stuck.
    def __init__(self, sandbox, port):
        self.s = sandbox.internal_socket(port) if port else None
        self._send(b"HW\n")

    def _send(self, b):
        if self.s is not None:
            try:
                self.s.send(b)
            except OSError:
                pass

    def halt(self, code):
        """Tell the supervisor (R reset, P power cut) and stop dead until it restarts us."""
        self._send(code + b"\n")
        if self.s is None:
            raise SystemExit(3)
        while True:
            time.sleep(1)


class _Backup:
    # The board interface's backup words (boards/base.py), in the twin's RTC file.
    def __init__(self, rtc):
        self._rtc = rtc

    def get(self, i):
        return self._rtc.word(i)

    def set(self, i, v):
        self._rtc.word(i, int(v))


class EWdt:
    """machine.WDT: the supervisor resets the twin when feeds stop for timeout_ms of host time."""

    def __init__(self, hw, timeout_ms):
        self._hw = hw
        self.timeout_ms = timeout_ms
        hw._send(b"WDT %d\n" % timeout_ms)

    def feed(self):
        self._hw._send(b".")


class Board(BaseBoard):
    NAME = "unix-twin"

    def __init__(self, opts):
        self.opts = opts
        self.flash_dir = opts["flash"]
        evpoll.install()  # before anything waits on a stream
        self.vclock = VClock(opts.get("start_ticks", (1 << 30) - 30000))
        self.clock = self.vclock
        self.rtc = ERtc(self.vclock, self.flash_dir + "/rtc.json")
        self.backup = _Backup(self.rtc)
        if opts.get("rtc_lost"):
            self.rtc.lose()  # the super-capacitor ran flat while the power was off
        elif opts.get("off_seconds"):
            self.rtc.passed(opts["off_seconds"])  # it kept time through the outage
        self.net = Sandbox(opts.get("routes", ()), opts.get("dlms_port"))
        self.hw = _HwLink(self.net, opts.get("hw_port"))
        BaseBoard.__init__(
            self, FlashBlockDev(self.flash_dir + "/flash.bin", FLASH_BLOCK_SIZE, FLASH_BLOCKS, on_cut=self._power_lost)
        )
        if opts.get("cut_at_write"):
            self.flash.arm(opts["cut_at_write"])
        self._cause = opts.get("reset_cause", "power")
        self.app = None
        # Relays, breaker, LEDs, button (the reference board's pin names).
        self.pins = Pins(self._pin_changed)
        # The E350's internal connector: the device's end is what firmware gets.
        self.meter_uart, meter_end = euart.pair(self.vclock, "meter", "e350")
        meter_path = self.flash_dir + "/meter.json"
        outage = self._cause == "power" and _exists(meter_path)
        self.meter = E350Sim(meter_end, self.vclock, self.rtc, meter_path, power_event=outage or None)

    # -- what the firmware asks of a board --
    def mount_data(self):
        how = BaseBoard.mount_data(self)
        if how != "mounted":
            self._factory_station()
        return how

    def _factory_station(self):
        # What the production line writes once: the module's identity. The
        # firmware only reads it (0.1.96.1.0.255 is read-only).
        path = self.DATA + "/factory.json"
        if _exists(path):
            return
        ident = {
            "serial": self.opts.get("serial", "5010080020"),  # the manual's MeterCom SN
            "flag": "TNX",  # FLAG id placeholder until one is registered
            "hw": "MCP-PRO GSM/UMTS HE910 rev B",
        }
        with open(path, "w") as f:
            json.dump(ident, f)

    def reset_cause(self):
        return self._cause

    def wdt(self, timeout_ms):
        return EWdt(self.hw, self.opts.get("wdt_ms") or timeout_ms)

    def reset(self):
        """machine.reset(): the unix port has none, so the supervisor restarts the process."""
        self.hw.halt(b"R")

    def services(self, app):
        """Hardware emulators and the twin's control link; started beside the firmware's tasks."""
        from boards.unix.control import ControlLink

        self.app = app
        self.control = ControlLink(self, app, self.opts.get("ctrl_port"))
        asyncio.create_task(self.control.run())
        asyncio.create_task(self.meter.run())
        return ()

    def pin(self, name):
        return self.pins.pin(name)

    def signal(self, name):
        """The named output or input as a machine.Signal: on() is the active level."""
        return self.pins.signal(name)

    # -- twin internals --
    def _pin_changed(self, name, level):
        watcher = self._pin_watchers.get(name)
        if watcher is not None:
            watcher(level)

    _pin_watchers = {}
    def _power_lost(self):
        self.hw.halt(b"P")

    def status(self):
        mx, total = self.flash.wear()
        return {
            "name": self.NAME,
            "flash": {"writes": self.flash.writes, "max_erases": mx, "erases": total},
            "net": [list(x) for x in self.net.log[-50:]],
            "ticks_ms": self.vclock.ticks_ms(),
            "meter": self.meter.status(),
            "pins": self.pins.levels(),
            "pin_changes": self.pins.changes(),
        }
