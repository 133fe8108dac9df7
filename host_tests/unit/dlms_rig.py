"""A firmware DLMS server over the real object model, for the HDLC link and DLMS client tests (no network, no twin)."""
import shutil
import tempfile
import time
import weakref

from firmware import caltime, clock, defaults
from firmware.cosem.ic_assoc import SECRET_KEY
from firmware.cosem.model import Model
from firmware.dlms.server import Server
from firmware.meter.values import MeterValues
from firmware.store import Store

PUBLIC, READER, UTILITY = 0x10, 0x20, 0x01
NOW = caltime.to_secs(2026, 3, 10, 12, 0, 0)

READOUT = [
    ("0.0", "CUST-0042", ""),
    ("C.1.0", "87654321", ""),
    ("1.8.0", "000123.456", "kWh"),
    ("2.8.0", "000001.500", "kWh"),
    ("32.7.0", "230.1", "V"),
    ("31.7.0", "1.25", "A"),
]


def ln(s):
    return bytes(int(v) for v in s.split("."))


CLOCK = ln("0.0.1.0.0.255")
REG = ln("1.0.1.8.0.255")
VOLT = ln("1.0.32.7.0.255")
REGNO = ln("0.1.96.1.1.255")
ASSOC = ln("0.0.40.0.0.255")
LDN = ln("0.0.42.0.0.255")


class RealTicks:
    """ticks_ms on the host's monotonic clock, wrapping at 2**30 as on an STM32."""

    PERIOD = 1 << 30

    def ticks_ms(self):
        return int(time.monotonic() * 1000) % self.PERIOD

    def ticks_add(self, a, b):
        return (a + b) % self.PERIOD

    def ticks_diff(self, a, b):
        d = (a - b) % self.PERIOD
        return d - self.PERIOD if d >= self.PERIOD // 2 else d


class Rtc:
    def __init__(self, secs):
        self.secs = secs

    def datetime(self, dt=None):
        if dt is None:
            y, mo, d, hh, mi, s, wd = caltime.from_secs(self.secs)
            return (y, mo, d, wd, hh, mi, s, 0)
        self.secs = caltime.to_secs(dt[0], dt[1], dt[2], dt[4], dt[5], dt[6])

    def valid(self):
        return True

    def set_valid(self):
        pass


class Dev:
    def __init__(self, d):
        self.config = Store(d + "/config.json", defaults.CONFIG).load()
        self.factory = {"serial": "1234567", "flag": "TNX", "hw": "ETH"}
        self.firmware_version = defaults.FIRMWARE_VERSION
        self.meter = MeterValues()
        self.meter.apply(READOUT, NOW)
        self.events = []

    def event(self, name, detail=None):
        self.events.append((name, detail))

    def secret(self, client):
        key = SECRET_KEY.get(client)
        return self.config.get(key).encode() if key else None


class Rig:
    """The firmware's Server with a fresh store; rtc is the device's clock."""

    def __init__(self):
        self.rtc = Rtc(NOW)
        clock.init(RealTicks(), self.rtc)
        d = tempfile.mkdtemp(prefix="dlmsrig")
        weakref.finalize(self, shutil.rmtree, d, True)
        self.dev = Dev(d)
        self.events = []
        self.server = Server(Model(self.dev), self.dev.secret, lambda n, dd: self.events.append((n, dd)))
