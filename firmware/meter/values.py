"""The latest values read from the meter: one compact slot per object of the object table."""
# Registers hold the integer of their scaler_unit (firmware/cosem/regfmt.py)
# in a preallocated array indexed like the object table; identification
# texts (a handful) in a small dict. Readings map IEC 62056-21 data-set
# codes to OBIS: "1.8.0" is 1.0.1.8.0.255, "C.7.0" is 0.0.96.7.0.255,
# "F.F" the error code 0.0.97.97.0.255.
from array import array

from firmware.cosem import objects, obis, regfmt

# Readout codes whose OBIS is not the plain mapping.
_ALIASES = {
    "F.F": "0.0.97.97.0.255",
    "0.0": "0.0.96.1.1.255",  # customer ID (manual: "Meter customer ID - 0.0")
    "C.1.1": "0.0.96.1.2.255",  # manufacture ID (manual: "C.1.1")
    "C.1.0": "0.0.96.1.0.255",  # meter serial number (EM_ID)
    "0.2.0": "1.0.0.2.0.255",
    "0.2.1": "1.0.0.2.1.255",
    "0.2.2": "1.0.0.2.2.255",
    "0.2.7": "1.0.0.2.7.255",
    "0.2.8": "1.0.0.2.8.255",
    "C.5.0": "1.0.96.5.0.255",
}


def code_to_obis(code):
    """IEC 62056-21 data-set code -> 6-byte OBIS, or None."""
    alias = _ALIASES.get(code)
    if alias:
        return obis.parse(alias)
    g = code.split(".")
    if len(g) == 2:
        g.append("0")
    if len(g) != 3:
        return None
    if g[0] == "C":
        a, c = 0, 96
    elif g[0] == "F":
        a, c = 0, 97
    elif g[0].isdigit():
        a, c = 1, int(g[0])
    else:
        return None
    if not (g[1].isdigit() and g[2].isdigit()):
        return None
    d, e = int(g[1]), int(g[2])
    if c > 255 or d > 255 or e > 255:
        return None
    return bytes((a, 0, c, d, e, 255))


class MeterValues:
    def __init__(self):
        self.num = array("q", bytes(8 * objects.COUNT))
        self.ok = bytearray(objects.COUNT)
        self.text = {}  # object index -> str, for identification and other texts
        self.serial = None  # the meter's number (EM_ID), also the IEC address
        self.readouts = 0
        self.failures = 0
        self.last_error = None
        self.when = None  # RTC seconds of the last good readout

    def apply(self, lines, now):
        """Store a readout's (code, value, unit) lines; returns how many mapped onto objects."""
        n = 0
        for code, value, unit in lines:
            ln = code_to_obis(code)
            if ln is None:
                continue
            if ln == b"\x00\x00\x60\x01\x00\xff":
                self.serial = value
            i = objects.find(ln)
            if i < 0:
                continue
            if objects.class_id(i) == 3:
                fmt = regfmt.register_format(ln)
                if fmt is None:
                    continue
                try:
                    self.num[i] = regfmt.scaled(value, unit, fmt[1])
                except ValueError:
                    continue
                self.ok[i] = 1
            else:
                self.text[i] = value
                self.ok[i] = 1
            n += 1
        self.readouts += 1
        self.when = now
        return n

    def register(self, i):
        """The register's integer, or None if the meter has not given it."""
        return self.num[i] if self.ok[i] else None
