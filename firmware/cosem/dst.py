"""Clock interface class (class_id 8, version 0) time logic: time zone, daylight saving rule, local time <-> UTC, methods (Blue Book DLMS UA 1000-1, 4.5.1)."""
from firmware import caltime
from firmware.compat import const
from firmware.cosem import dtime
from firmware.cosem.dtime import DEV_NS, NS, YEAR_NS, DtimeError

# The device keeps UTC seconds (firmware.clock); local time is derived from
# the Clock's settings, a plain dict (the config store keeps plain values),
# keys named after the Clock attributes:
#   "time_zone": int                   attr 3, minutes, the deviation sign of
#                                      dtime: UTC - local standard time (CET
#                                      -60, EST +300); 0x8000 (DEV_NS) or absent = 0
#   "daylight_savings_begin": bytes    attr 5, 12-octet date-time pattern (or its hex)
#   "daylight_savings_end": bytes      attr 6
#   "daylight_savings_deviation": int  attr 7, minutes added to local time while DST is active (-120..120)
#   "daylight_savings_enabled": bool   attr 8
# e.g. EU/Prague: time_zone -60, begin FFFF 03 FE 07 02000000 8000 FF (last
# Sunday of March 02:00), end FFFF 0A FE 07 03000000 8000 FF, deviation 60.
# A missing dict (None) is UTC without DST.
#
# Switch times are the wall clock just before each switch: begin in local
# standard time, end in local daylight time. The EU rule (01:00 UTC both
# times) is then "02:00 begin, 03:00 end" in Prague and "01:00, 02:00" in
# London, as meters are configured. A pattern selecting several days
# switches on the first; one that selects none in a year (fixed year, 30
# February) means no DST that year. Southern rules (begin after end in the
# year) are active outside [end, begin).
#
# A local time given without deviation (0x8000) that the switch makes
# ambiguous (the repeated hour) or non-existent (the skipped hour) is read
# with the offset in force just before the switch, as PEP 495's fold=0 does:
# the repeated 02:30 in October is the first (daylight) one, and a skipped
# 02:30 in March is 02:30 standard time, i.e. 03:30 daylight time.

# Method indices of class 8 (Blue Book 4.5.1). 1-4 take data ::= integer(0).
ADJUST_TO_QUARTER = const(1)  # to the nearest (+/-) quarter of an hour
ADJUST_TO_MEASURING_PERIOD = const(2)  # to the nearest (+/-) start of a measuring period
ADJUST_TO_MINUTE = const(3)  # seconds < 30: to 0; >= 30: to 0 and the minute + 1
ADJUST_TO_PRESET_TIME = const(4)  # to preset_time, if now is within the validity interval
PRESET_ADJUSTING_TIME = const(5)  # structure{preset_time, validity_interval_start, validity_interval_end}
SHIFT_TIME = const(6)  # long -900..900: shift the time by that many seconds

_YEAR_MIN = const(2000)  # an MCU RTC (STM32: two BCD year digits) holds 2000..2099
_YEAR_MAX = const(2099)


def _pattern(p):
    if isinstance(p, str):
        try:
            p = bytes.fromhex(p)
        except ValueError:
            raise DtimeError("pattern hex")
    return dtime.decode_datetime(p)


def _params(st):
    # (std offset in seconds local - UTC, begin, end, DST seconds or None if DST is off)
    if st is None:
        return 0, None, None, None
    tz = st.get("time_zone", 0)
    std = 0 if tz == DEV_NS else -tz * 60
    if not st.get("daylight_savings_enabled", False):
        return std, None, None, None
    return std, st.get("daylight_savings_begin"), st.get("daylight_savings_end"), st.get("daylight_savings_deviation", 60) * 60


def check_settings(st):
    """Raise DtimeError unless st is a usable settings dict (for a SET of attributes 3, 5-8)."""
    tz = st.get("time_zone", 0)
    dev = st.get("daylight_savings_deviation", 60)
    if type(tz) is not int or not (tz == DEV_NS or -dtime.DEV_MAX <= tz <= dtime.DEV_MAX):
        raise DtimeError("time_zone")
    if type(dev) is not int or not (-120 <= dev <= 120):
        raise DtimeError("daylight_savings_deviation")
    # The date-time deviation while DST is active must stay encodable.
    on = st.get("daylight_savings_enabled", False)
    if on and tz != DEV_NS and not (-dtime.DEV_MAX <= tz - dev <= dtime.DEV_MAX):
        raise DtimeError("time_zone with daylight_savings_deviation")
    for k in ("daylight_savings_begin", "daylight_savings_end"):
        p = st.get(k)
        if p is not None:
            f = _pattern(p)
            if on and not (1 <= f[1] <= 12):
                raise DtimeError(k)


def _switch_day(year, p):
    # (month, day, local seconds of the switch) in that year, or None
    y, mo, d, wd, h, mi, s = _pattern(p)[0:7]
    if (y != YEAR_NS and y != year) or not (1 <= mo <= 12):
        return None
    days = dtime.month_days(year, mo, d, wd, y != YEAR_NS)
    if len(days) == 0:
        return None
    d = days[0]
    return mo, d, caltime.to_secs(year, mo, d, 0 if h == NS else h, 0 if mi == NS else mi, 0 if s == NS else s)


def _switches(year, st):
    std, b, e, dst = _params(st)
    if dst is None or b is None or e is None:
        return None
    b = _switch_day(year, b)
    e = _switch_day(year, e)
    if b is None or e is None:
        return None
    return std, dst, b, e


def dst_dates(year, st):
    """Local (begin_month, begin_day, end_month, end_day) of the DST rule in that year, or None."""
    w = _switches(year, st)
    if w is None:
        return None
    return w[2][0], w[2][1], w[3][0], w[3][1]


def dst_window(year, st):
    """UTC seconds (begin, end) of the DST rule in that (local) year, or None if DST is off or does not apply."""
    w = _switches(year, st)
    if w is None:
        return None
    std, dst, b, e = w
    return b[2] - std, e[2] - std - dst


def _offset(t, st):
    # (local - UTC in seconds, dst active) at UTC second t
    std, b, e, dst = _params(st)
    if dst is None:
        return std, False
    w = dst_window(caltime.civil_from_days((t + std) // 86400)[0], st)
    if w is None:
        return std, False
    b, e = w
    if b <= e:
        on = b <= t < e
    else:
        on = t >= b or t < e
    return (std + dst, True) if on else (std, False)


def local_fields(t, st):
    """(y, mo, d, h, mi, s, wd, deviation, dst_active) of UTC second t; deviation = UTC - local in minutes."""
    off, on = _offset(t, st)
    y, mo, d, h, mi, s, wd = caltime.from_secs(t + off)
    return y, mo, d, h, mi, s, wd, -off // 60, on


def encode_now(out, t, st, status=0, pos=0):
    """The Clock's time attribute for UTC second t: into an axdr.Writer as octet-string(12), or raw at buf[pos].

    The daylight saving active bit of status follows the rule; the other bits
    are the caller's (invalid, doubtful...). Returns the position after it.
    """
    y, mo, d, h, mi, s, wd, dev, on = local_fields(t, st)
    if status != NS:
        status = (status & 0x7F) | (dtime.STATUS_DST if on else 0)
    f = (y, mo, d, wd, h, mi, s, 0, dev, status)
    if hasattr(out, "end"):
        dtime.write_datetime(out, f)
        return out.pos
    return dtime.encode_datetime(out, pos, f)


def to_utc(y, mo, d, h, mi, s, deviation=DEV_NS, st=None):
    """UTC seconds of a concrete local time: by its deviation, or by the Clock settings when DEV_NS."""
    dtime.check_concrete(y, mo, d, h, mi, s)
    loc = caltime.to_secs(y, mo, d, h, mi, s)
    if deviation != DEV_NS:
        if type(deviation) is not int or not (-dtime.DEV_MAX <= deviation <= dtime.DEV_MAX):
            raise DtimeError("deviation")
        return loc + deviation * 60
    std, b, e, dst = _params(st)
    if dst is None:
        return loc - std
    u1 = loc - std
    u2 = u1 - dst
    ok1 = _offset(u1, st)[0] == std
    ok2 = _offset(u2, st)[0] == std + dst
    if ok1 != ok2:
        return u1 if ok1 else u2
    # At a switch: the offset in force at the earlier reading is the one before the switch.
    return loc - _offset(u2 if u2 < u1 else u1, st)[0]


def decode_to_utc(b, st=None, pos=0):
    """UTC seconds of the 12-octet date-time at b[pos]; every field down to the second must be specified."""
    f = dtime.decode_datetime(b, pos)
    return to_utc(f[0], f[1], f[2], f[4], f[5], f[6], f[8], st)


def apply_set(b, now, st=None, pos=0):
    """New UTC seconds for a SET of the Clock's time attribute (date-time at b[pos]) at UTC second now.

    Only the specified fields change (4.5.1, attribute 2): the others are
    taken from now, read in the client's deviation when it gives one, else in
    local time. Month/day 0xFD/0xFE make no sense here and are refused, as is
    a result outside the RTC's years.
    """
    f = dtime.decode_datetime(b, pos)
    dev = f[8]
    if dev == DEV_NS:
        cur = local_fields(now, st)
    else:
        cur = caltime.from_secs(now - dev * 60)
    if (f[1] > 12 and f[1] != NS) or (f[2] > 31 and f[2] != NS):
        raise DtimeError("special date in a SET")
    y = cur[0] if f[0] == YEAR_NS else f[0]
    v = [y]
    for i, j in ((1, 1), (2, 2), (4, 3), (5, 4), (6, 5)):
        v.append(cur[j] if f[i] == NS else f[i])
    dtime.check_concrete(v[0], v[1], v[2], v[3], v[4], v[5])
    if f[3] != NS and dtime.weekday(v[0], v[1], v[2]) != f[3]:
        raise DtimeError("day of week")
    t = to_utc(v[0], v[1], v[2], v[3], v[4], v[5], dev, st)
    if not (_YEAR_MIN <= caltime.from_secs(t)[0] <= _YEAR_MAX):
        raise DtimeError("year outside the RTC")
    return t


def _int(v):
    if type(v) is not int:
        raise DtimeError("not an int")


def _round(t, period, st):
    # Nearest multiple of period in local time, halves up; the clock moves by
    # the same amount, so a switch in between does not add an hour.
    _int(t)
    loc = t + _offset(t, st)[0]
    r = loc % period
    return t - r + (period if 2 * r >= period else 0)


def adjust_to_quarter(t, st=None):
    """Method 1: UTC seconds of the nearest local quarter hour (*:00, *:15, *:30, *:45)."""
    return _round(t, 900, st)


def adjust_to_measuring_period(t, period, st=None):
    """Method 2: to the nearest start of a measuring period of `period` seconds (a divisor of a day), local time.

    The method's data is integer(0): the period is the device's own (e.g. the
    load profile's capture_period), which the caller passes.
    """
    _int(period)
    if not (0 < period <= 86400) or 86400 % period:
        raise DtimeError("measuring period")
    return _round(t, period, st)


def adjust_to_minute(t, st=None):
    """Method 3: to the nearest minute, 30 s up."""
    return _round(t, 60, st)


def shift_time(t, n):
    """Method 6: t + n, n in -900..900 seconds."""
    _int(t)
    _int(n)
    if not (-900 <= n <= 900):
        raise DtimeError("shift_time range")
    return t + n


def preset_adjusting_time(preset, start, end):
    """Method 5: the preset to keep (UTC seconds preset_time, validity_interval_start, validity_interval_end)."""
    _int(preset)
    _int(start)
    _int(end)
    if start > end:
        raise DtimeError("validity interval")
    return preset, start, end


def adjust_to_preset_time(t, preset):
    """Method 4: preset_time if t lies within the validity interval (bounds included), else DtimeError."""
    if preset is None:
        raise DtimeError("no preset")
    _int(t)
    if not (preset[1] <= t <= preset[2]):
        raise DtimeError("outside the validity interval")
    return preset[0]
