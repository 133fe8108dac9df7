"""The application: the subsystems wired to a board and run under one supervisor (design.md, firmware inside)."""
import asyncio

from firmware import clock, defaults, events
from firmware.sched import Supervisor
from firmware.store import Store

_RECENT_KEPT = 64  # events in RAM, by name, for the twin's status (the logs keep them on flash)
_WDT_MS = 8000  # the STM32 IWDG allows up to 32 s; 8 s catches a stuck loop quickly
_HEARTBEAT_S = 60  # how often the time is saved where a power cut keeps it (power-down logging)
_LINK_LOST_AFTER = 3  # failed readouts in a row before the meter link counts as lost

# Module status word 1.1.96.5.0.255 (README: module status bits)
STATUS_RTC_INVALID = 0x0001
STATUS_METER_LINK_DOWN = 0x0002
STATUS_FLASH_FORMATTED = 0x0004
STATUS_CONFIG_DEFAULTS = 0x0008
STATUS_TASK_RESTARTED = 0x0010
STATUS_WATCHDOG_RESET = 0x0020
STATUS_LOG_WRITE_FAILED = 0x0040
STATUS_DEBUG_FIRMWARE = 0x0080
# Module error code 0.1.97.97.0.255
ERROR_FLASH = 0x0001
ERROR_METER = 0x0002
ERROR_RTC = 0x0004

# Meter counters that raise an event when they grow: (OBIS, event name)
_WATCHED_COUNTERS = (
    (b"\x01\x00\x52\x08\x01\xff", "terminal-cover"),
    (b"\x01\x00\x52\x08\x02\xff", "dc-field"),
    (b"\x01\x00\x52\x08\x03\xff", "disconnector-tamper"),
)
_IMPORT_ENERGY = b"\x01\x00\x01\x08\x00\xff"


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
        self.recent = []
        self.ring_errors = 0
        self.link_failures = 0
        self.link_down = False
        self.preset_time = None
        # Feed at a quarter of the timeout the watchdog really has (a board
        # or the twin may set another than asked for).
        wdt_ms = getattr(self.wdt, "timeout_ms", _WDT_MS)
        self.sup = Supervisor(wdt=self.wdt, feed_ms=max(100, wdt_ms // 4), on_crash=self._crashed)
        self._build()
        self._boot_events()

    def _build(self):
        from firmware.cosem.model import Model
        from firmware.dlms.server import Server
        from firmware.dlms.tcp import DlmsTcp
        from firmware.meter.capture import Capturer
        from firmware.meter.demand import Demand
        from firmware.meter.reader import MeterReader
        from firmware.meter.values import MeterValues
        from hal.e350 import E350Link

        self.meter = MeterValues()
        self.reader = MeterReader(E350Link(self.board.meter_uart), self.meter)
        self.read_lock = asyncio.Lock()
        self.demand = Demand(self.config)
        self._open_rings()
        self.model = Model(self)
        self.dlms = Server(self.model, self._secret, self.event)
        self.tcp = DlmsTcp(self.board.net, self.dlms, lambda: self.config.get("PORT"), lambda: self.config.get("INACT"))
        self.capturer = Capturer(self)
        self._counters = {}
        from firmware.subsystems import SUBSYSTEMS

        self._tasks = []
        for name in SUBSYSTEMS:
            mod = __import__(name)
            for part in name.split(".")[1:]:
                mod = getattr(mod, part)
            self._tasks.extend(mod.setup(self))

    def _open_rings(self):
        from firmware import profiles
        from firmware.cosem import obis
        from firmware.ring import Ring

        self.rings = {}
        for name, ln, record, count in self.board.rings():
            try:
                self.rings[name] = Ring(self.board.DATA + "/rings/" + name, record, count)
            except Exception as e:  # a ring that cannot open costs its data, not the device
                self.ring_errors += 1
                self.rings[name] = None
                print("app: ring %s: %r" % (name, e))
        self.logs = events.EventLogs(self.rings, clock.now)
        self.profiles = {}
        self.load_profiles = []
        for name, ln, period_key, fixed, cols_key in profiles.LOAD:
            p = profiles.Profile(name, ln, self.rings.get(name), self.config, period_key, fixed, cols_key)
            self.profiles[p.ln] = p
            if p.ring is not None:
                self.load_profiles.append(p)
        for e, name in enumerate(events.LOG_NAMES):
            p = profiles.EventLog(name, obis.fmt(bytes((1, 0, 99, 98, e, 255))), self.rings.get(name), e)
            self.profiles[p.ln] = p

    def _boot_events(self):
        self.event("module-start", events.RESET_CAUSES.get(self.reset_cause, 0))
        if self.fs != "mounted":
            self.event("flash-formatted", 1 if self.fs == "formatted" else 2)
        if self.config.recovered:
            self.event("config-defaults")
        if not clock.rtc_valid():
            self.event("rtc-lost")
        backup = getattr(self.board, "backup", None)
        if backup is not None and self.reset_cause == "power":
            down = backup.get(0)
            if down:
                # The module is powered from the meter's phases: its own outage
                # is a blackout, logged now from the last saved heartbeat.
                self.event("power-down", 0, when=down)
                self.event("power-up", max(0, clock.now() - down))

    # -- settings the object model changes --
    def set_port(self, port):
        """PORT (manual 4.2; TCP setup attribute 2): saved, and the DLMS listener moves at once."""
        self.config.update({"PORT": port})
        self.tcp.port_changed()

    def set_capture_period(self, p, v):
        if p is None or p.event:
            return False
        if p.period_key is None:
            return v == p.fixed_period  # daily and monthly follow the calendar
        if v != 0 and not (60 <= v <= 86400 and 86400 % v == 0):
            return False
        self.config.update({p.period_key: v})
        self.param_changed(7, p.ln, 4)
        return True

    def set_demand_period(self, v):
        if not (60 <= v <= 3600 and 3600 % v == 0):
            return False
        self.config.update({"DEM_PERIOD": v})
        self.demand.reset()
        return True

    def profile_by_key(self, key):
        for p in self.load_profiles:
            if p.period_key == key:
                return p
        return None

    def param_changed(self, class_id, ln, attr):
        """The parameter monitors 0.0.16.2.0/1.255 watch profile 1's and 2's parameters."""
        if class_id == 7 and ln[2] == 99 and ln[3] in (1, 2):
            pm = list(self.config.get("PMON"))
            pm[ln[3] - 1] = [attr, clock.now()]
            self.config.update({"PMON": pm})

    def _secret(self, client):
        from firmware.cosem.ic_assoc import SECRET_KEY

        key = SECRET_KEY.get(client)
        return self.config.get(key).encode() if key else None

    # -- events --
    def event(self, name, detail=None, when=None):
        """Record an event by name: into its event log (firmware/events.py), and in RAM for the status."""
        t = clock.now() if when is None else when
        self.recent.append((t, name, detail))
        if len(self.recent) > _RECENT_KEPT:
            self.recent.pop(0)
        print("event: %s %r" % (name, detail))
        log, code = events.BY_NAME.get(name, (events.LOG_DEBUG, events.INTERNAL_ERROR))
        self.logs.record(log, code, detail if isinstance(detail, int) else 0, t)

    def _crashed(self, name, exc):
        self.event("task-crash", name)

    # -- the meter --
    async def read_meter(self):
        """One readout, never two at once (the periodic one and a capture's)."""
        async with self.read_lock:
            ok = await self.reader.read_once()
        self._after_readout(ok)
        return ok

    def _after_readout(self, ok):
        if not ok:
            self.link_failures += 1
            if self.link_failures == _LINK_LOST_AFTER:
                self.link_down = True
                self.event("meter-lost", self.link_failures)
            return
        if self.link_down:
            self.link_down = False
            self.event("meter-back", self.link_failures)
        self.link_failures = 0
        from firmware.cosem import objects

        i = objects.find(_IMPORT_ENERGY)
        e = self.meter.register(i)
        if e is not None and self.meter.when is not None:
            self.demand.update(self.meter.when, e)
        for ln, name in _WATCHED_COUNTERS:
            v = self.meter.register(objects.find(ln))
            old = self._counters.get(ln)
            if v is not None and old is not None and v > old:
                self.event(name, v)
            if v is not None:
                self._counters[ln] = v
        for ph in (1, 2, 3):  # phase fail counters 0.0.96.7.ph.255
            i = objects.find(bytes((0, 0, 96, 7, ph, 255)))
            t = self.meter.text.get(i)
            try:
                v = int(t) if t is not None else None
            except ValueError:
                v = None
            key = ("phase", ph)
            old = self._counters.get(key)
            if v is not None and old is not None and v > old:
                self.event("phase-failure", ph)
            if v is not None:
                self._counters[key] = v

    async def _meter_loop(self):
        while True:
            await self.read_meter()
            await asyncio.sleep_ms(self.reader.period_ms)

    # -- profiles --
    def _column_value(self, col):
        from firmware.cosem import objects
        from firmware.cosem.ic_data import _NUMERIC

        cid, ln, attr, di = col
        if cid == 5:
            return self.demand.current_average if attr == 2 else self.demand.last_average
        i = objects.find(ln)
        if i < 0:
            return None
        if cid == 3:
            return self.meter.register(i)
        text = self.meter.text.get(i)
        num = _NUMERIC.get(bytes(ln))
        if text is None or num is None:
            return None
        try:
            return int(text, num[1])
        except ValueError:
            return None

    def capture(self, p, t):
        from firmware.cosem.ic_clock import settings, status

        try:
            p.capture(t, status(settings(self.config)), self._column_value)
        except Exception as e:
            self.ring_errors += 1
            self.event("capture-failed", repr(e))

    def capture_now(self, p):
        self.capture(p, clock.now())

    async def _heartbeat(self):
        backup = getattr(self.board, "backup", None)
        while True:
            if backup is not None:
                backup.set(0, clock.now())
            await asyncio.sleep_ms(_HEARTBEAT_S * 1000)

    # -- state words --
    def module_status(self):
        s = 0
        if not clock.rtc_valid():
            s |= STATUS_RTC_INVALID
        if self.link_down:
            s |= STATUS_METER_LINK_DOWN
        if self.fs != "mounted":
            s |= STATUS_FLASH_FORMATTED
        if self.config.recovered:
            s |= STATUS_CONFIG_DEFAULTS
        if self.sup.crashes:
            s |= STATUS_TASK_RESTARTED
        if self.reset_cause == "wdt":
            s |= STATUS_WATCHDOG_RESET
        if self.logs.failures:
            s |= STATUS_LOG_WRITE_FAILED
        if int(self.firmware_version.split(".")[-1]) % 2:
            s |= STATUS_DEBUG_FIRMWARE
        return s

    def module_error(self):
        e = 0
        if self.ring_errors or self.logs.failures:
            e |= ERROR_FLASH
        if self.link_down:
            e |= ERROR_METER
        if not clock.rtc_valid():
            e |= ERROR_RTC
        return e

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
            "config": dict(self.config.values, PWD="***", USEC="***"),
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
                "link_down": self.link_down,
            },
            "events": [list(e) for e in self.recent[-20:]],
            "logs": {name: (len(r) if r is not None else None) for name, r in self.rings.items()},
            "module_status": self.module_status(),
            "module_error": self.module_error(),
            "captures": self.capturer.captures,
            "heap": _heap(),
        }

    async def run(self):
        for name, factory in self.board.services(self):
            self.sup.start(name, factory)
        self.sup.start("meter", self._meter_loop)
        self.sup.start("capture", self.capturer.run)
        self.sup.start("heartbeat", self._heartbeat)
        self.sup.start("dlms", self.tcp.run)
        for name, factory in self._tasks:
            self.sup.start(name, factory)
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
