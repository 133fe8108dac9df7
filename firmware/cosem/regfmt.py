"""Value type, scaler and unit of each register by its OBIS quantity (IEC 62056-6-1 C and D groups, Blue Book units)."""
from firmware.compat import const
from firmware.dlms import axdr

# Blue Book unit enumeration (class 3 scaler_unit)
UNIT_W = const(27)
UNIT_VA = const(28)
UNIT_VAR = const(29)
UNIT_WH = const(30)
UNIT_VAH = const(31)
UNIT_VARH = const(32)
UNIT_A = const(33)
UNIT_V = const(35)
UNIT_HZ = const(44)
UNIT_COUNT = const(255)

_ACTIVE = (1, 2, 15, 16, 21, 22, 35, 36, 41, 42, 55, 56, 61, 62, 75, 76, 128)
_REACTIVE = (3, 4, 5, 6, 7, 8, 23, 24, 43, 44, 63, 64, 130, 131, 132, 133, 151, 171, 191)
_VOLTAGE = (32, 52, 72)
_CURRENT = (31, 51, 71)
_PF = (13, 33, 53, 73)


def register_format(ln):
    """(A-XDR tag, scaler, unit) for the value of register ln (6 bytes), or None if unknown."""
    c = ln[2]
    d = ln[3]
    if d == 8:
        if c == 82:  # tamper counters
            return axdr.DOUBLE_LONG_UNSIGNED, 0, UNIT_COUNT
        if c == 9:
            return axdr.DOUBLE_LONG_UNSIGNED, 0, UNIT_VAH
        if c in _REACTIVE:
            return axdr.DOUBLE_LONG_UNSIGNED, 0, UNIT_VARH
        if c in _ACTIVE:
            return axdr.DOUBLE_LONG_UNSIGNED, 0, UNIT_WH
        return None
    if d in (7, 4):  # instantaneous and current average
        if c in _VOLTAGE:
            return axdr.LONG_UNSIGNED, -1, UNIT_V
        if c in _CURRENT:
            return axdr.LONG_UNSIGNED, -2, UNIT_A
        if c in _PF:
            return axdr.LONG, -3, UNIT_COUNT
        if c == 14:
            return axdr.LONG_UNSIGNED, -2, UNIT_HZ
        if c in _REACTIVE:
            return axdr.DOUBLE_LONG, 0, UNIT_VAR
        if c in _ACTIVE:
            return axdr.DOUBLE_LONG, 0, UNIT_W
    return None


_UNIT_POW10 = {"kWh": 3, "kvarh": 3, "kVAh": 3, "kW": 3, "kvar": 3, "kVA": 3, "Wh": 0, "W": 0, "varh": 0, "var": 0,
               "V": 0, "A": 0, "Hz": 0, "": 0}


def scaled(text, unit, scaler):
    """The integer a register holds for a reading such as ('000123.456', 'kWh') with the given scaler.

    Decimal arithmetic on the digits, no floats: 123.456 kWh with scaler 0
    is 123456 Wh exactly. ValueError for a reading that is not a number.
    """
    p10 = _UNIT_POW10.get(unit)
    if p10 is None:
        raise ValueError("unit %r" % unit)
    neg = text.startswith("-")
    t = text[1:] if neg or text.startswith("+") else text
    ip, _, fp = t.partition(".")
    if not (ip + fp).isdigit():
        raise ValueError("not a number: %r" % text)
    v = int(ip + fp)
    e = p10 - len(fp) - scaler
    if e >= 0:
        v *= 10**e
    else:
        d = 10**-e
        v = (v + d // 2) // d  # round half up
    return -v if neg else v
