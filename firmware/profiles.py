"""Load profiles and event logs (Blue Book class 7 Profile generic): their columns, captures and rows in flash rings."""
# A row on flash is the ring record's payload: u32 capture time (UTC
# seconds), u8 clock status at capture, u8 spare, then one i64 per column
# that is not the clock (the clock column is the capture time itself, shown
# as the local date-time). A value the meter has not given is stored as the
# i64 minimum and read back as null-data. Event-log rows are
# firmware/events.py's (time, code, detail).
import struct

from firmware.compat import const
from firmware.cosem import obis

CLOCK_COL = (8, b"\x00\x00\x01\x00\x00\xff", 2, 0)
_NULL = -(1 << 63)
_HDR = const(6)

# name, logical name, config key of the capture period (None: fixed), fixed
# period, config key of the columns. Profile 1/2 periods are the manual's
# Data objects 1.0.0.8.4.255 / 1.0.0.8.5.255 too; daily captures at local
# midnight, monthly at local midnight on the 1st (capture_period 0: the
# calendar triggers it, as the Blue Book allows).
LOAD = (
    ("profile1", "1.0.99.1.0.255", "P1_PERIOD", 0, "P1_COLS"),
    ("profile2", "1.0.99.2.0.255", "P2_PERIOD", 0, "P2_COLS"),
    ("daily", "1.0.99.3.0.255", None, 86400, "D_COLS"),
    ("monthly", "1.0.99.4.0.255", None, 0, "M_COLS"),
)


def _cols(*names):
    out = [[8, "0.0.1.0.0.255", 2, 0]]
    for n in names:
        out.append([3, n, 2, 0])
    return out


# Factory columns: energies for billing, the instantaneous values for power quality.
DEFAULT_COLUMNS = {
    "P1_COLS": _cols("1.0.1.8.0.255", "1.0.2.8.0.255", "1.0.3.8.0.255", "1.0.4.8.0.255"),
    "P2_COLS": _cols("1.0.32.7.0.255", "1.0.52.7.0.255", "1.0.72.7.0.255", "1.0.31.7.0.255", "1.0.51.7.0.255", "1.0.71.7.0.255"),
    "D_COLS": _cols("1.0.1.8.0.255", "1.0.1.8.1.255", "1.0.1.8.2.255", "1.0.2.8.0.255", "1.0.3.8.0.255", "1.0.4.8.0.255"),
    "M_COLS": _cols(
        "1.0.1.8.0.255", "1.0.1.8.1.255", "1.0.1.8.2.255", "1.0.1.8.3.255", "1.0.1.8.4.255", "1.0.2.8.0.255", "1.0.3.8.0.255"
    ),
}


def parse_columns(cols):
    """Settings form [[class, 'a.b.c.d.e.f', attr, data_index], ...] -> tuple of (class, ln6, attr, index)."""
    return tuple((int(c[0]), obis.parse(c[1]), int(c[2]), int(c[3])) for c in cols)


def store_columns(cols):
    return [[c[0], obis.fmt(c[1]), c[2], c[3]] for c in cols]


class Profile:
    """One load profile: its ring, columns and capture period (from the settings)."""

    def __init__(self, name, ln, ring, config, period_key, fixed_period, cols_key):
        self.name = name
        self.ln = obis.parse(ln)
        self.ring = ring
        self.config = config
        self.period_key = period_key
        self.fixed_period = fixed_period
        self.cols_key = cols_key
        self.columns = parse_columns(config.get(cols_key))
        self.event = False
        self._row = bytearray(ring.payload_size) if ring is not None else None

    @property
    def period(self):
        return self.config.get(self.period_key) if self.period_key else self.fixed_period

    def max_columns(self):
        return (self.ring.payload_size - _HDR) // 8 + 1  # the clock column costs nothing

    def set_columns(self, cols):
        """New capture objects: the buffer is cleared (Blue Book 4.3.6) and the change saved."""
        self.config.update({self.cols_key: store_columns(cols)})
        self.columns = tuple(cols)
        self.ring.clear()

    def capture(self, t, clock_status, value_of):
        """Append one row at time t; value_of(column) gives an int or None."""
        b = self._row
        struct.pack_into(">IBB", b, 0, t & 0xFFFFFFFF, clock_status & 0xFF, 0)
        o = _HDR
        for col in self.columns:
            if col[0] == 8:
                continue
            v = value_of(col)
            struct.pack_into(">q", b, o, _NULL if v is None else v)
            o += 8
        return self.ring.append(memoryview(b)[:o])

    def values(self, b):
        """(time, clock status, i64 list per non-clock column) of a row payload (None for a missing value)."""
        t, st = struct.unpack_from(">IB", b, 0)
        out = []
        o = _HDR
        for col in self.columns:
            if col[0] == 8:
                continue
            v = struct.unpack_from(">q", b, o)[0]
            out.append(None if v == _NULL else v)
            o += 8
        return t, st, out


class EventLog:
    """An event log read as a profile: columns clock and the log's event code object 0.0.96.11.E.255."""

    def __init__(self, name, ln, ring, e):
        self.name = name
        self.ln = obis.parse(ln)
        self.ring = ring
        self.columns = (CLOCK_COL, (1, bytes((0, 0, 96, 11, e, 255)), 2, 0))
        self.event = True
        self.period = 0
