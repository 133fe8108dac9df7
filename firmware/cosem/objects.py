"""The device's COSEM object list (manual 4.1): a compact sorted table of OBIS, class, value source and access."""
# One 10-byte record per object, binary-searched by OBIS, instead of an
# object per object. The rows are edited in objects.txt and compiled into
# objtable.py by tools/gen_objects.py (a test keeps the two in step): a text
# table parsed on the device would keep its 12 KB string in RAM. Rows: OBIS,
# class id, kind (which code serves the values, "-" = not implemented yet:
# logical_name only), access profile:
#   i  identification and measured values: every client reads, nobody writes
#   w  read by every client, set/operated by the meter reader and utility
#   c  configuration: the public client sees only logical_name; the meter
#      reader and the utility read it, set its writable attributes, run its methods
#   p  records (profiles, logs, diagnostics): public sees logical_name; the
#      meter reader reads; the utility also sets and resets
#   a  association objects: readable by all but the secret, which is write-only
#   r  read-only companions of records (the event-code objects): public sees
#      logical_name, the meter reader and the utility read, nobody writes

PUBLIC = 0x10  # Public Reader, no authentication (manual 4.1)
READER = 0x20  # Meter Reader, LOW authentication (manual 4.1)
UTILITY = 0x01  # Utility setting (management client), LOW with its own secret

# class id: (version, attribute count, method count, writable attributes, operable methods)
# masks: bit n = attribute/method n. Versions are pinned: a change is a new version.
CLASSES = {
    1: (0, 2, 0, 0x004, 0),  # Data
    3: (0, 3, 1, 0, 0),  # Register (meter values: nobody writes or resets them)
    5: (0, 9, 2, 0x300, 0),  # Demand register
    7: (1, 8, 2, 0x018, 0x006),  # Profile generic
    8: (0, 9, 6, 0x1EC, 0x07E),  # Clock
    9: (0, 2, 1, 0x004, 0x002),  # Script table
    11: (0, 2, 2, 0x004, 0x006),  # Special days table
    15: (1, 9, 4, 0x080, 0),  # Association LN (secret, attribute 7)
    17: (0, 2, 1, 0, 0),  # SAP assignment
    20: (0, 10, 1, 0x7C0, 0x002),  # Activity calendar
    21: (0, 4, 0, 0x01C, 0),  # Register monitor
    23: (1, 9, 0, 0x3FC, 0),  # IEC HDLC setup
    41: (0, 6, 0, 0x044, 0),  # TCP-UDP setup (port, inactivity_time_out)
    42: (0, 10, 3, 0x7E8, 0),  # IPv4 setup
    43: (0, 2, 0, 0, 0),  # MAC address setup
    44: (0, 5, 0, 0x020, 0),  # PPP setup
    45: (0, 4, 0, 0x01C, 0),  # GPRS modem setup
    47: (0, 8, 0, 0, 0),  # GSM diagnostic
    65: (0, 5, 2, 0, 0),  # Parameter monitor (a fixed list: no writes, no add/delete)
    70: (0, 4, 2, 0x010, 0x006),  # Disconnect control
    71: (0, 11, 0, 0xFFC, 0),  # Limiter
    # Manufacturer classes (manual 4.1); their attributes are defined by the
    # issues that implement them (README, manufacturer classes).
    8192: (0, 7, 3, 0x0CC, 0x00E),  # Wireless M-Bus object
    8193: (0, 5, 2, 0x028, 0x006),  # Relay configuration
    8194: (0, 4, 0, 0x01C, 0),  # Tariffication rate configuration
    8195: (0, 6, 1, 0x07C, 0x002),  # TCP connection configuration in client mode
    8196: (0, 5, 1, 0x03C, 0x002),  # MCP configuration
}

# Attributes that take selective access, and which selectors (1 range, 2 entry).
SELECTIVE = {(7, 2): (1, 2), (8192, 4): (1, 2)}

KINDS = (
    "-", "ldn", "fw", "serial", "regno", "hwconf", "meter", "reg", "clock", "assoc", "sap", "tcp",
    "profile", "demand", "pmon", "period", "evcode", "mstat", "merror",
)
PROFILES = "iwcpar"

from firmware.cosem.objtable import COUNT, TABLE  # noqa: E402  (generated from objects.txt)

_REC = 10  # OBIS 6, class 2, kind 1, profile 1


def find(ln):
    """Index of the object with logical name ln (6 bytes), or -1."""
    lo = 0
    hi = COUNT - 1
    t = TABLE
    while lo <= hi:
        mid = (lo + hi) >> 1
        o = mid * _REC
        for k in range(6):
            a = t[o + k]
            b = ln[k]
            if a != b:
                break
        else:
            return mid
        if a < b:
            lo = mid + 1
        else:
            hi = mid - 1
    return -1


def logical_name(i):
    o = i * _REC
    return TABLE[o : o + 6]


def class_id(i):
    o = i * _REC + 6
    return (TABLE[o] << 8) | TABLE[o + 1]


def kind(i):
    return KINDS[TABLE[i * _REC + 8]]


def profile(i):
    return PROFILES[TABLE[i * _REC + 9]]


def _all(n):
    return ((1 << n) - 1) << 1  # bits 1..n


def access(i, client):
    """(readable, writable, operable) bit masks of object i for a client SAP."""
    cid = class_id(i)
    ver, na, nm, cw, cm = CLASSES[cid]
    p = profile(i)
    allr = _all(na)
    if p == "i":
        return allr, 0, 0
    if p == "a":
        # The secret is never readable. The meter reader changes its own;
        # the utility (key management) may change every association's but
        # the public one's (E = 1), which has no secret.
        e = TABLE[i * _REC + 4]
        w = 0
        if (client == UTILITY and e != 1) or (client == READER and e in (0, 2)):
            w = 0x080
        return allr & ~0x080, w, 0
    if client == PUBLIC:
        return (allr if p == "w" else 0x002), 0, 0
    if p == "r":
        return allr, 0, 0
    if p == "p" and client != UTILITY:
        return allr, 0, 0
    return allr, cw, cm
