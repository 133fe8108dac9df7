"""COSEM date-time, date and time octet-strings with wildcards: codec, checks and pattern matching (Blue Book DLMS UA 1000-1, 4.1.6.1)."""
import struct

from firmware import caltime
from firmware.compat import const
from firmware.dlms.axdr import BufferFull

# Wire layout (big-endian), the tuple order used everywhere in this module:
#   date-time (12): year u16, month, day_of_month, day_of_week, hour, minute,
#                   second, hundredths, deviation int16, clock_status
#   date (5): year, month, day_of_month, day_of_week; time (4): hour .. hundredths
# Not specified: year 0xFFFF, any octet 0xFF, deviation 0x8000 (DEV_NS here,
# as the int16 reads it). Month 0xFE/0xFD = the month daylight saving begins/
# ends; day 0xFE/0xFD = last/second last day of the month.
#
# Deviation sign, decided here once for the whole firmware: deviation is
# UTC minus local time, in minutes, so that UTC = local time + deviation
# (CET -60, CEST -120, New York EST +300). That is the Blue Book's "deviation
# in minutes of local time to UTC" (4.1.6.1; the Ed. 12.2 excerpt quoted in
# UtilitechAS/amsreader-firmware#809 and Gurux's Clock page citing 4.1.6.1),
# what IDIS meters send (a Kaifa meter: 20:23:45 CEST with -120), what Gurux
# writes and reads by default (useUtc2NormalTime False: deviation =
# -utcoffset) and what dlms-cosem does (tzoffset(-deviation*60)). The opposite
# sign belongs to companion standards (India, Saudi Arabia, Italy per Gurux,
# and SPODES), not to the Blue Book; no edition we could read states a flip.
# The Blue Book range is -720..+720; we accept +-840 because UTC+13/+14 zones
# exist and a client in one must not be refused.
#
# A deviation of 0 is UTC, as the standard says (Gurux's C server and
# dlms-cosem treat 0 as "none"; a client that sends local time with 0 is wrong).

NS = const(0xFF)
YEAR_NS = const(0xFFFF)
DEV_NS = const(-0x8000)
DST_END = const(0xFD)  # month
DST_BEGIN = const(0xFE)  # month
SECOND_LAST_DAY = const(0xFD)  # day_of_month
LAST_DAY = const(0xFE)  # day_of_month
DEV_MAX = const(840)

# clock_status bits (4.1.6.1); 0xFF = not specified.
STATUS_INVALID = const(0x01)
STATUS_DOUBTFUL = const(0x02)
STATUS_DIFFERENT_BASE = const(0x04)
STATUS_INVALID_STATUS = const(0x08)
STATUS_DST = const(0x80)

_FMT = ">HBBBBBBBhB"
_HORIZON = const(400)  # months next_occurrence looks ahead: Feb 29 on a given weekday recurs within 28 years


class DtimeError(ValueError):
    pass


def weekday(y, m, d):
    """1 = Monday .. 7 = Sunday."""
    return (caltime.days_from_civil(y, m, d) + 3) % 7 + 1


def _check_date(y, mo, d, wd):
    if not (0 <= y <= YEAR_NS):
        raise DtimeError("year")
    if not (1 <= mo <= 12 or DST_END <= mo <= NS):
        raise DtimeError("month")
    # 0xE0..0xFC are reserved day values
    if not (1 <= d <= 31 or SECOND_LAST_DAY <= d <= NS):
        raise DtimeError("day")
    if not (1 <= wd <= 7 or wd == NS):
        raise DtimeError("day of week")
    if d <= 31 and mo <= 12:
        # A year not specified may be a leap year: 29 February is a valid pattern.
        if d > caltime.days_in_month(2000 if y == YEAR_NS else y, mo):
            raise DtimeError("day")
        # A full date whose day of week disagrees is an error (4.1.6.1).
        if y != YEAR_NS and wd != NS and weekday(y, mo, d) != wd:
            raise DtimeError("day of week")


def _check_time(h, mi, s, hs):
    if not ((0 <= h <= 23 or h == NS) and (0 <= mi <= 59 or mi == NS) and (0 <= s <= 59 or s == NS)):
        raise DtimeError("time")
    if not (0 <= hs <= 99 or hs == NS):
        raise DtimeError("hundredths")


def _check_ints(f):
    # type() rather than isinstance(): bool is an int on CPython only.
    for v in f:
        if type(v) is not int:
            raise DtimeError("not an int")


def check_datetime(f):
    """Raise DtimeError unless f = (y, mo, d, wd, h, mi, s, hs, deviation, status) is a valid date-time, wildcards allowed."""
    if len(f) != 10:
        raise DtimeError("fields")
    _check_ints(f)
    _check_date(f[0], f[1], f[2], f[3])
    _check_time(f[4], f[5], f[6], f[7])
    dev = f[8]
    if dev != DEV_NS and not (-DEV_MAX <= dev <= DEV_MAX):
        raise DtimeError("deviation")
    if not (0 <= f[9] <= NS):
        raise DtimeError("status")


def check_concrete(y, mo, d, h, mi, s):
    """Raise DtimeError unless this is one real local date and time (no wildcard, no special value)."""
    _check_ints((y, mo, d, h, mi, s))
    if not (0 <= y < YEAR_NS and 1 <= mo <= 12 and 1 <= d <= caltime.days_in_month(y, mo)):
        raise DtimeError("date not concrete")
    if not (0 <= h <= 23 and 0 <= mi <= 59 and 0 <= s <= 59):
        raise DtimeError("time not concrete")


def _room(buf, pos, n):
    if pos < 0 or len(buf) - pos < n:
        raise BufferFull()


def encode_datetime(buf, pos, f):
    """Write the 12 octets of f (the tuple decode_datetime returns) at buf[pos]; returns pos + 12."""
    check_datetime(f)
    _room(buf, pos, 12)
    struct.pack_into(_FMT, buf, pos, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9])
    return pos + 12


def encode_date(buf, pos, f):
    """Write the 5 octets of f = (y, mo, d, wd); returns pos + 5."""
    if len(f) != 4:
        raise DtimeError("fields")
    _check_ints(f)
    _check_date(f[0], f[1], f[2], f[3])
    _room(buf, pos, 5)
    struct.pack_into(">HBBB", buf, pos, f[0], f[1], f[2], f[3])
    return pos + 5


def encode_time(buf, pos, f):
    """Write the 4 octets of f = (h, mi, s, hs); returns pos + 4."""
    if len(f) != 4:
        raise DtimeError("fields")
    _check_ints(f)
    _check_time(f[0], f[1], f[2], f[3])
    _room(buf, pos, 4)
    struct.pack_into("BBBB", buf, pos, f[0], f[1], f[2], f[3])
    return pos + 4


def _write(w, n, enc, f):
    # As an octet-string: the Clock and the profiles carry date-times as
    # octet-string(12), not as the date-time tag. Checked before any octet is
    # written, so a DtimeError or BufferFull leaves w.pos where it was.
    p = w.pos
    if w.end - p < n + 2:
        raise BufferFull()
    enc(w.buf, p + 2, f)
    w.buf[p] = 9
    w.buf[p + 1] = n
    w.pos = p + n + 2


def write_datetime(w, f):
    """Append f to an axdr.Writer as octet-string(12)."""
    _write(w, 12, encode_datetime, f)


def write_date(w, f):
    _write(w, 5, encode_date, f)


def write_time(w, f):
    _write(w, 4, encode_time, f)


def _have(b, pos, n):
    if pos < 0 or len(b) - pos < n:
        raise DtimeError("length")


def decode_datetime(b, pos=0):
    """(y, mo, d, wd, h, mi, s, hs, deviation, status) from 12 octets at b[pos]; DtimeError if invalid."""
    _have(b, pos, 12)
    f = struct.unpack_from(_FMT, b, pos)
    check_datetime(f)
    return f


def decode_date(b, pos=0):
    """(y, mo, d, wd) from 5 octets at b[pos]."""
    _have(b, pos, 5)
    f = struct.unpack_from(">HBBB", b, pos)
    _check_date(f[0], f[1], f[2], f[3])
    return f


def decode_time(b, pos=0):
    """(h, mi, s, hs) from 4 octets at b[pos]."""
    _have(b, pos, 4)
    f = struct.unpack_from("BBBB", b, pos)
    _check_time(f[0], f[1], f[2], f[3])
    return f


def month_days(y, m, dp, wp, exact=False):
    """The days of month m of year y that day-of-month dp and day-of-week wp select, as a range.

    Blue Book 4.1.6.1: last day (0xFE) with a weekday is the last such weekday
    of the month; without a year, a day and a weekday mean that weekday on or
    following the day (03-25 Sunday = last Sunday of March). Our readings where
    the standard is silent: second last day (0xFD) with a weekday is that
    weekday on or before the second last day; "on or following" stays in the
    month (no match if it would spill over). exact=True (year and month
    specified) means the day itself, and only if it is that weekday.
    """
    dim = caltime.days_in_month(y, m)
    wd1 = weekday(y, m, 1)
    if dp == NS:
        if wp == NS:
            return range(1, dim + 1)
        return range(1 + (wp - wd1) % 7, dim + 1, 7)
    if dp == LAST_DAY or dp == SECOND_LAST_DAY:
        d = dim if dp == LAST_DAY else dim - 1
        if wp != NS:
            d -= ((wd1 + d - 2) % 7 + 1 - wp) % 7
        return range(d, d + 1)
    if dp > dim:
        return range(0)
    if wp != NS:
        wdd = (wd1 + dp - 2) % 7 + 1
        if exact:
            if wdd != wp:
                return range(0)
        else:
            dp += (wp - wdd) % 7
            if dp > dim:
                return range(0)
    return range(dp, dp + 1)


def _split(p):
    # A pattern is a date-time (12), date (5) or time (4): (date fields, time fields).
    n = len(p)
    if n == 12:
        f = decode_datetime(p)
        return f[0:4], f[4:8]
    if n == 5:
        return decode_date(p), (NS, NS, NS, NS)
    if n == 4:
        return (YEAR_NS, NS, NS, NS), decode_time(p)
    raise DtimeError("pattern length")


def _month_ok(y, m, pm, settings, cache):
    if pm <= 12:
        return pm == m
    if pm == NS:
        return True
    # daylight_savings_begin/end month: the month the Clock's rule switches in that year.
    if settings is None:
        return False
    if cache[0] != y:
        from firmware.cosem import dst

        cache[0] = y
        cache[1] = dst.dst_dates(y, settings)
    dd = cache[1]
    if dd is None:
        return False
    return dd[0 if pm == DST_BEGIN else 2] == m


def matches(p, lf, settings=None):
    """True if local time lf (local_fields or (y, mo, d, h, mi, s, ...)) matches pattern p.

    Deviation and clock_status of a date-time pattern are not compared; a
    specified hundredths matches only 0 (local times here are whole seconds).
    Months 0xFE/0xFD need the Clock settings (firmware.cosem.dst); without
    them they never match.
    """
    (py, pm, pd, pw), (ph, pmi, ps, phs) = _split(p)
    y, mo, d, h, mi, s = lf[0], lf[1], lf[2], lf[3], lf[4], lf[5]
    if phs != NS and phs != 0:
        return False
    if (ph != NS and ph != h) or (pmi != NS and pmi != mi) or (ps != NS and ps != s):
        return False
    if py != YEAR_NS and py != y:
        return False
    if not _month_ok(y, mo, pm, settings, [None, None]):
        return False
    return d in month_days(y, mo, pd, pw, py != YEAR_NS and pm <= 12)


def _next_time(ph, pmi, ps, h, mi, s):
    # The earliest time of day matching (ph, pmi, ps) strictly after h:mi:s (h = -1: any).
    for hh in range(24) if ph == NS else (ph,):
        if hh < h:
            continue
        for mm in range(60) if pmi == NS else (pmi,):
            if hh == h and mm < mi:
                continue
            for ss in range(60) if ps == NS else (ps,):
                if hh == h and mm == mi and ss <= s:
                    continue
                return hh, mm, ss
    return None


def next_occurrence(p, after, settings=None):
    """The first local (y, mo, d, h, mi, s, wd) strictly after local time `after` that matches p, or None.

    Looks ahead _HORIZON months; `after` is local_fields or (y, mo, d, h, mi, s, ...).
    """
    (py, pm, pd, pw), (ph, pmi, ps, phs) = _split(p)
    if phs != NS and phs != 0:
        return None
    y0, m0, d0 = after[0], after[1], after[2]
    h0, mi0, s0 = after[3], after[4], after[5]
    if py != YEAR_NS:
        if py < y0:
            return None
        if py > y0:
            y0, m0, d0, h0 = py, 1, 0, -1
    first = _next_time(ph, pmi, ps, -1, -1, -1)
    exact = py != YEAR_NS and pm <= 12
    cache = [None, None]
    k0 = y0 * 12 + m0 - 1
    for k in range(k0, k0 + _HORIZON):
        y = k // 12
        m = k % 12 + 1
        if py != YEAR_NS and y != py:
            return None
        if not _month_ok(y, m, pm, settings, cache):
            continue
        for d in month_days(y, m, pd, pw, exact):
            if k == k0 and d <= d0:
                if d < d0:
                    continue
                t = _next_time(ph, pmi, ps, h0, mi0, s0)
            else:
                t = first
            if t is not None:
                return y, m, d, t[0], t[1], t[2], weekday(y, m, d)
    return None
