"""The module's event codes and event logs 1-6 + debug log (manual 4.1: 1.0.99.98.0.255 .. 1.0.99.98.6.255)."""
# One table of codes, one log per kind of event, as the manual names them.
# An event is written where it happens: record(LOG_*, CODE_*, detail). Each
# log is a flash ring of (time, code, detail) records, read over DLMS as a
# class 7 profile whose columns are the clock and the event code. The detail
# (a client address, a reset cause, a clock correction in seconds) is kept
# for the twin's status and the debug log; DLMS shows time and code.
from firmware.compat import const

# Logs, by the E group of their OBIS code 1.0.99.98.E.255 (manual 4.1).
LOG_CRITICAL = const(0)  # 1: critical states and attacks
LOG_CALENDAR = const(1)  # 2: calendar actions
LOG_POWER = const(2)  # 3: blackouts and voltage problems
LOG_MODULE = const(3)  # 4: module internal states
LOG_COMMANDS = const(4)  # 5: direct commands
LOG_LIMITER = const(5)  # 6: limiter
LOG_DEBUG = const(6)  # 2N debugging log
LOG_NAMES = ("events1", "events2", "events3", "events4", "events5", "events6", "debug")

# Event codes. The README's event table is this list; a code keeps its
# number forever (head-ends store them).
# Log 1, critical states and attacks
AUTH_FAILURE = const(1)  # wrong password in an AARQ (detail: client SAP)
SECRET_CHANGED = const(2)  # an association's LOW secret / the SMS password changed (detail: client SAP)
TERMINAL_COVER = const(3)  # the meter's terminal cover counter rose (detail: new count)
DC_FIELD = const(4)  # the meter's DC field counter rose (detail: new count)
DISCONNECTOR_TAMPER = const(5)  # the meter's disconnector tamper counter rose
# Log 2, calendar actions
TARIFF_CHANGED = const(20)  # the active rate changed (detail: new rate)
CALENDAR_ACTIVATED = const(21)  # the passive calendar became active
RELAY_BY_CALENDAR = const(22)  # a relay switched by the calendar (detail: relay*10 + state)
# Log 3, blackouts and voltage problems
POWER_DOWN = const(40)  # all three phases lost: the module lost its supply (time: last heartbeat)
POWER_UP = const(41)  # supply back (detail: seconds without power)
PHASE_FAILURE = const(42)  # one phase lost (detail: phase 1..3)
PHASE_RESTORED = const(43)  # that phase back (detail: phase)
# Log 4, module internal states
MODULE_START = const(60)  # firmware started (detail: 1 power, 2 watchdog, 3 software reset, 4 reset pin)
TASK_RESTARTED = const(61)  # a subsystem raised and was restarted (detail: task number)
METER_LINK_LOST = const(62)  # the meter stopped answering
METER_LINK_BACK = const(63)  # the meter answers again
CLOCK_SET = const(64)  # the clock was set or adjusted (detail: correction in seconds)
RTC_LOST = const(65)  # the RTC lost its back-up supply: time invalid until set
FLASH_FORMATTED = const(66)  # the data file system was blank or unreadable and was formatted
CONFIG_DEFAULTS = const(67)  # the settings file was unreadable: factory defaults in use
PROFILE_CLEARED = const(68)  # a profile's buffer was reset or its capture objects changed (detail: profile)
# Log 5, direct commands
RELAY_BY_COMMAND = const(80)  # a relay switched by a DLMS command (detail: relay*10 + state)
DISCONNECT_BY_COMMAND = const(81)
RECONNECT_BY_COMMAND = const(82)
SMS_COMMAND = const(83)  # an SMS command was executed (detail: 1 INFO, 2 CNF, 3 RESET)
UPGRADE_STARTED = const(84)
UPGRADE_DONE = const(85)
UPGRADE_FAILED = const(86)
# Log 6, limiter
LIMIT_EXCEEDED = const(100)  # a limiter's threshold exceeded (detail: limiter)
DISCONNECT_BY_LIMITER = const(101)
LIMIT_NORMAL = const(102)  # back under the threshold

# 2N debugging log
INTERNAL_ERROR = const(250)  # a request or task failed inside the firmware

RESET_CAUSES = {"power": 1, "wdt": 2, "soft": 3, "pin": 4}

# The names the firmware records events by, and where each goes.
BY_NAME = {
    "auth-failure": (LOG_CRITICAL, AUTH_FAILURE),
    "secret-changed": (LOG_CRITICAL, SECRET_CHANGED),
    "terminal-cover": (LOG_CRITICAL, TERMINAL_COVER),
    "dc-field": (LOG_CRITICAL, DC_FIELD),
    "disconnector-tamper": (LOG_CRITICAL, DISCONNECTOR_TAMPER),
    "tariff-changed": (LOG_CALENDAR, TARIFF_CHANGED),
    "power-down": (LOG_POWER, POWER_DOWN),
    "power-up": (LOG_POWER, POWER_UP),
    "phase-failure": (LOG_POWER, PHASE_FAILURE),
    "phase-restored": (LOG_POWER, PHASE_RESTORED),
    "module-start": (LOG_MODULE, MODULE_START),
    "task-crash": (LOG_MODULE, TASK_RESTARTED),
    "meter-lost": (LOG_MODULE, METER_LINK_LOST),
    "meter-back": (LOG_MODULE, METER_LINK_BACK),
    "clock-set": (LOG_MODULE, CLOCK_SET),
    "rtc-lost": (LOG_MODULE, RTC_LOST),
    "flash-formatted": (LOG_MODULE, FLASH_FORMATTED),
    "config-defaults": (LOG_MODULE, CONFIG_DEFAULTS),
    "profile-cleared": (LOG_MODULE, PROFILE_CLEARED),
}

_REC_CODE = const(4)  # payload: u32 time, u16 code, i32 detail


class EventLogs:
    """The seven event logs on their rings; record() never raises (an event must not take a task down)."""

    def __init__(self, rings, now_fn):
        self.rings = rings  # name -> firmware.ring.Ring, or None where there is no flash ring (tests)
        self.now = now_fn
        self.recent = []  # the last events, for the twin's status
        self.last_code = [0] * len(LOG_NAMES)
        self.failures = 0
        self._buf = bytearray(10)

    def record(self, log, code, detail=0, when=None):
        t = self.now() if when is None else when
        self.last_code[log] = code
        self.recent.append((t, LOG_NAMES[log], code, detail))
        if len(self.recent) > 32:
            self.recent.pop(0)
        r = self.rings.get(LOG_NAMES[log]) if self.rings else None
        if r is None:
            return
        b = self._buf
        _put_u32(b, 0, t)
        b[4] = (code >> 8) & 0xFF
        b[5] = code & 0xFF
        _put_u32(b, 6, detail & 0xFFFFFFFF)
        try:
            r.append(b)
        except Exception as e:  # a full or failing flash costs the entry, not the caller
            self.failures += 1
            print("events: cannot write %s: %r" % (LOG_NAMES[log], e))


def _put_u32(b, o, v):
    v = int(v) & 0xFFFFFFFF
    b[o] = v >> 24
    b[o + 1] = (v >> 16) & 0xFF
    b[o + 2] = (v >> 8) & 0xFF
    b[o + 3] = v & 0xFF


def get_u32(b, o):
    return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]


def row(b):
    """(time, code, detail) of an event record's payload."""
    d = get_u32(b, 6)
    if d & 0x80000000:
        d -= 1 << 32
    return get_u32(b, 0), (b[4] << 8) | b[5], d
