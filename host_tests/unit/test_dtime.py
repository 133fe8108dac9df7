"""COSEM date-time codec, Clock time zone/DST logic and methods: vectors, round trips, zoneinfo/Gurux/dlms-cosem as oracles."""
import datetime
import os
import struct
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings, strategies as st

from firmware import caltime
from firmware.cosem import dst, dtime
from firmware.cosem.dtime import DEV_NS, NS, YEAR_NS, DtimeError
from firmware.dlms.axdr import BufferFull, Writer

FUZZ = settings(derandomize=True, max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")), deadline=None)
UTC = datetime.timezone.utc


def H(s):
    return bytes.fromhex(s.replace(" ", ""))


def rule(tz, begin, end, dev=60, enabled=True):
    return {
        "time_zone": tz,
        "daylight_savings_begin": H(begin),
        "daylight_savings_end": H(end),
        "daylight_savings_deviation": dev,
        "daylight_savings_enabled": enabled,
    }


# Switch times: begin in local standard time, end in local daylight time (the clock before the switch).
PRAGUE = rule(-60, "FFFF 03 FE 07 02000000 8000 FF", "FFFF 0A FE 07 03000000 8000 FF")
LONDON = rule(0, "FFFF 03 FE 07 01000000 8000 FF", "FFFF 0A FE 07 02000000 8000 FF")
# second Sunday of March = Sunday on or following the 8th; first Sunday of November
NEW_YORK = rule(300, "FFFF 03 08 07 02000000 8000 FF", "FFFF 0B 01 07 02000000 8000 FF")
# southern: first Sunday of October 02:00 AEST .. first Sunday of April 03:00 AEDT
SYDNEY = rule(-600, "FFFF 0A 01 07 02000000 8000 FF", "FFFF 04 01 07 03000000 8000 FF")
ZONES = [
    (PRAGUE, "Europe/Prague", 1996),
    (LONDON, "Europe/London", 1996),
    (NEW_YORK, "America/New_York", 2007),
    (SYDNEY, "Australia/Sydney", 2008),
]
LAST_YEAR = 2099


def secs(*a):
    return caltime.to_secs(*a)


def tz_fields(t, zone):
    dt = datetime.datetime.fromtimestamp(t, ZoneInfo(zone))
    off = int(dt.utcoffset().total_seconds()) // 60
    return (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.isoweekday(), -off, bool(dt.dst()))


# ---- vectors of spec/dlms-byte-examples.md (captured Gurux/dlms-cosem exchanges) ----

GET_CLOCK_RESPONSE = H("C4 01 C1 00 09 0C 07 EA 0B 19 FF 00 22 20 00 00 00 00")
ROWS_BY_ENTRY = H(
    "C4 01 C1 00 01 02 02 02 09 0C 07 E8 01 01 FF 00 00 00 00 00 00 00 06 00 00 03 E8"
    " 02 02 09 0C 07 E8 01 01 FF 01 00 00 00 00 00 00 06 00 00 03 F2"
)
RANGE_DLMS_COSEM = H(
    "C0 01 C1 00 07 01 00 63 01 00 FF 02 01 01 02 04 02 04 12 00 08 09 06 00 00 01 00 00 FF 0F 02 12 00 00"
    " 09 0C 07 E8 01 01 FF 02 00 00 00 80 00 00 09 0C 07 E8 01 01 FF 05 00 00 00 80 00 00 01 00"
)
RANGE_GURUX_TAIL = H("09 0C 07 E8 01 01 FF 02 00 00 00 00 00 00 09 0C 07 E8 01 01 FF 05 00 00 00 00 00 00 01 00")
ROWS_BY_RANGE = H(
    "C4 01 C1 00 01 04 02 02 09 0C 07 E8 01 01 FF 02 00 00 00 00 00 00 06 00 00 03 FC"
    " 02 02 09 0C 07 E8 01 01 FF 03 00 00 00 00 00 00 06 00 00 04 06"
    " 02 02 09 0C 07 E8 01 01 FF 04 00 00 00 00 00 00 06 00 00 04 10"
    " 02 02 09 0C 07 E8 01 01 FF 05 00 00 00 00 00 00 06 00 00 04 1A"
)


def datetimes_in(apdu):
    # every octet-string(12) in an APDU, as memoryviews of it
    mv = memoryview(apdu)
    out = []
    i = 0
    while i < len(apdu) - 13:
        if apdu[i] == 0x09 and apdu[i + 1] == 0x0C:
            out.append(mv[i + 2 : i + 14])
            i += 14
        else:
            i += 1
    return out


def test_get_clock_response_vector():
    (b,) = datetimes_in(GET_CLOCK_RESPONSE)
    assert dtime.decode_datetime(b) == (2026, 11, 25, NS, 0, 34, 32, 0, 0, 0)
    t = secs(2026, 11, 25, 0, 34, 32)
    assert dst.decode_to_utc(b) == t
    assert dst.decode_to_utc(b, PRAGUE) == t  # deviation 0 is UTC whatever the clock's zone
    # what our Clock answers at that instant in UTC: the same, with the day of week filled in
    buf = bytearray(20)
    w = Writer(buf, 4)
    assert dst.encode_now(w, t, None) == 18
    assert bytes(buf[4:18]) == H("09 0C 07 EA 0B 19 03 00 22 20 00 00 00 00")
    assert datetime.date(2026, 11, 25).isoweekday() == 3
    # in Prague (winter): 01:34:32 local, deviation -60 (UTC = local + deviation)
    raw = bytearray(12)
    assert dst.encode_now(raw, t, PRAGUE) == 12
    assert bytes(raw) == H("07 EA 0B 19 03 01 22 20 00 FF C4 00")


def test_profile_rows_vectors():
    a, b = datetimes_in(ROWS_BY_ENTRY)
    assert dst.decode_to_utc(a) == secs(2024, 1, 1)
    assert dst.decode_to_utc(b) == secs(2024, 1, 1, 1)
    got = [dst.decode_to_utc(x) for x in datetimes_in(ROWS_BY_RANGE)]
    assert got == [secs(2024, 1, 1, h) for h in (2, 3, 4, 5)]


def test_range_descriptor_vectors():
    frm, to = datetimes_in(RANGE_DLMS_COSEM)
    assert dtime.decode_datetime(frm)[8] == DEV_NS
    # deviation not specified: the clock's own time zone decides
    assert dst.decode_to_utc(frm) == secs(2024, 1, 1, 2)
    assert dst.decode_to_utc(to) == secs(2024, 1, 1, 5)
    assert dst.decode_to_utc(frm, PRAGUE) == secs(2024, 1, 1, 1)
    assert dst.decode_to_utc(to, NEW_YORK) == secs(2024, 1, 1, 10)
    # Gurux sends deviation 0: UTC
    gfrm, gto = datetimes_in(RANGE_GURUX_TAIL)
    assert dst.decode_to_utc(gfrm, PRAGUE) == secs(2024, 1, 1, 2)
    assert dst.decode_to_utc(gto, PRAGUE) == secs(2024, 1, 1, 5)


def test_idis_meter_capture():
    # Kaifa MA309 (amsreader-firmware#809): 2024-06-15 Sat 20:23:45 CEST, deviation -120, DST bit
    b = H("07E8 06 0F 06 14 17 2D 00 FF88 80")
    assert dst.decode_to_utc(b) == secs(2024, 6, 15, 18, 23, 45)
    out = bytearray(12)
    dst.encode_now(out, secs(2024, 6, 15, 18, 23, 45), PRAGUE)
    assert bytes(out) == b


def test_date_and_time_codecs():
    buf = bytearray(9)
    assert dtime.encode_date(buf, 0, (2024, 2, 29, 4)) == 5
    assert dtime.encode_time(buf, 5, (23, 59, 59, 99)) == 9
    assert bytes(buf) == H("07E8 02 1D 04 17 3B 3B 63")
    assert dtime.decode_date(buf) == (2024, 2, 29, 4)
    assert dtime.decode_time(buf, 5) == (23, 59, 59, 99)
    assert dtime.decode_date(H("FFFF FF FE 07")) == (YEAR_NS, NS, 0xFE, 7)
    w = Writer(bytearray(16))
    dtime.write_date(w, (YEAR_NS, 12, 25, NS))
    dtime.write_time(w, (NS, NS, 0, NS))
    assert bytes(w.buf[: w.pos]) == H("09 05 FFFF 0C 19 FF 09 04 FF FF 00 FF")


@pytest.mark.parametrize(
    "hexs",
    [
        "07E8 0D 01 FF 00000000 0000 00",  # month 13
        "07E8 00 01 FF 00000000 0000 00",  # month 0
        "07E8 01 20 FF 00000000 0000 00",  # day 32
        "07E8 04 1F FF 00000000 0000 00",  # 31 April
        "07E9 02 1D FF 00000000 0000 00",  # 29 February 2025
        "FFFF 02 1E FF 00000000 0000 00",  # 30 February, any year
        "07E8 01 00 FF 00000000 0000 00",  # day 0
        "07E8 01 E0 FF 00000000 0000 00",  # reserved day 0xE0
        "07E8 01 01 00 00000000 0000 00",  # weekday 0
        "07E8 01 01 08 00000000 0000 00",  # weekday 8
        "07E8 01 01 02 00000000 0000 00",  # 2024-01-01 was a Monday, not a Tuesday
        "07E8 01 01 FF 19000000 0000 00",  # hour 25
        "07E8 01 01 FF 003C0000 0000 00",  # minute 60
        "07E8 01 01 FF 00003C00 0000 00",  # second 60
        "07E8 01 01 FF 00000064 0000 00",  # hundredths 100
        "07E8 01 01 FF 00000000 0349 00",  # deviation 841
        "07E8 01 01 FF 00000000 FCB7 00",  # deviation -841
    ],
)
def test_invalid_values_raise(hexs):
    with pytest.raises(DtimeError):
        dtime.decode_datetime(H(hexs))


def test_wildcards_valid():
    for hexs in (
        "FFFF FF FF FF FF FF FF FF 8000 FF",
        "FFFF 02 1D FF 00000000 8000 FF",  # 29 February of any year
        "FFFF FE FD 07 FFFFFFFF 8000 FF",  # DST-begin month, second last day, Sunday
        "07E8 FD FE FF 02000000 8000 FF",
        "0000 01 01 FF 00000000 8000 FF",  # year 0 is a year
        "07E8 01 01 01 00000000 02D0 FF",  # 2024-01-01 Monday, +720
        "07E8 01 01 FF 00000000 FCC7 FF",  # -825 (UTC+13:45, Chatham summer)
    ):
        f = dtime.decode_datetime(H(hexs))
        out = bytearray(12)
        dtime.encode_datetime(out, 0, f)
        assert bytes(out) == H(hexs)


def test_encode_errors_leave_writer_alone():
    w = Writer(bytearray(13))
    with pytest.raises(BufferFull):
        dtime.write_datetime(w, (2024, 1, 1, NS, 0, 0, 0, 0, 0, 0))
    w = Writer(bytearray(20), 3)
    with pytest.raises(DtimeError):
        dtime.write_datetime(w, (2024, 13, 1, NS, 0, 0, 0, 0, 0, 0))
    assert w.pos == 3
    with pytest.raises(DtimeError):
        dtime.encode_datetime(bytearray(12), 0, (2024, 1, 1, NS, 0, 0, 0, 0, 0, True))
    with pytest.raises(BufferFull):
        dtime.encode_datetime(bytearray(12), 1, (2024, 1, 1, NS, 0, 0, 0, 0, 0, 0))
    with pytest.raises(DtimeError):
        dtime.decode_datetime(bytes(11))


# ---- round trips and garbage ----


@st.composite
def dt_fields(draw):
    y = draw(st.one_of(st.just(YEAR_NS), st.integers(0, 0xFFFE)))
    mo = draw(st.sampled_from(list(range(1, 13)) + [0xFD, 0xFE, NS]))
    dim = caltime.days_in_month(2000 if y == YEAR_NS else y, mo) if mo <= 12 else 31
    d = draw(st.sampled_from(list(range(1, dim + 1)) + [0xFD, 0xFE, NS]))
    if y != YEAR_NS and mo <= 12 and d <= 31:
        wd = draw(st.sampled_from([dtime.weekday(y, mo, d), NS]))
    else:
        wd = draw(st.sampled_from([1, 2, 3, 4, 5, 6, 7, NS]))
    t = [draw(st.one_of(st.just(NS), st.integers(0, top))) for top in (23, 59, 59, 99)]
    dev = draw(st.one_of(st.just(DEV_NS), st.integers(-840, 840)))
    return (y, mo, d, wd, t[0], t[1], t[2], t[3], dev, draw(st.integers(0, 255)))


@FUZZ
@given(dt_fields())
def test_fuzz_round_trip(f):
    buf = bytearray(14)
    assert dtime.encode_datetime(buf, 2, f) == 14
    assert dtime.decode_datetime(memoryview(buf), 2) == f
    assert struct.unpack(">h", buf[11:13])[0] == f[8]


@FUZZ
@given(st.binary(max_size=14), st.integers(0, 3))
def test_fuzz_garbage_decodes_or_raises_dtime_error(b, pos):
    for dec, n in ((dtime.decode_datetime, 12), (dtime.decode_date, 5), (dtime.decode_time, 4)):
        try:
            f = dec(b, pos)
        except DtimeError:
            continue
        out = bytearray(n)
        {12: dtime.encode_datetime, 5: dtime.encode_date, 4: dtime.encode_time}[n](out, 0, f)
        assert bytes(out) == b[pos : pos + n]


@FUZZ
@given(st.binary(min_size=12, max_size=12), st.integers(946684800, 4102444799), st.sampled_from([None, PRAGUE, NEW_YORK, SYDNEY]))
def test_fuzz_garbage_to_utc_and_set(b, now, rules):
    for fn in (lambda: dst.decode_to_utc(b, rules), lambda: dst.apply_set(b, now, rules)):
        try:
            assert isinstance(fn(), int)
        except DtimeError:
            pass


def _pattern_bytes(f):
    # a valid pattern of 12, 5 or 4 octets; hundredths mostly unspecified or 0, as schedules use them
    f = f[:7] + (NS if f[7] % 3 else 0,) + f[8:]
    b = bytearray(12)
    dtime.encode_datetime(b, 0, f)
    return bytes(b), bytes(b[:5]), bytes(b[5:9])


PATTERNS = st.one_of(
    st.binary(max_size=13),
    st.tuples(dt_fields(), st.integers(0, 2)).map(lambda a: _pattern_bytes(a[0])[a[1]]),
)


@FUZZ
@given(PATTERNS, st.integers(0, 4102444799), st.sampled_from([None, PRAGUE, SYDNEY]))
def test_fuzz_patterns(p, t, rules):
    lf = dst.local_fields(t, rules)
    try:
        m = dtime.matches(p, lf, rules)
        n = dtime.next_occurrence(p, lf, rules)
    except DtimeError:
        return
    if n is not None:
        assert n[:6] > lf[:6]
        assert n[6] == dtime.weekday(*n[:3])
        assert dtime.matches(p, n, rules)
    if m:
        # the time itself matches: it is the next occurrence after the second before it
        prev = caltime.from_secs(caltime.to_secs(*lf[:6]) - 1)
        assert dtime.next_occurrence(p, prev, rules)[:6] == lf[:6]


DST_PATTERNS = st.one_of(
    st.binary(min_size=12, max_size=12),
    dt_fields().map(lambda f: _pattern_bytes(f)[0]),
    st.tuples(st.integers(1, 12), st.sampled_from([1, 8, 15, 25, 28, 0xFD, 0xFE, NS]), st.sampled_from([7, NS]), st.integers(0, 23)).map(
        lambda a: bytes([0xFF, 0xFF, a[0], a[1], a[2], a[3], 0, 0, 0, 0x80, 0, 0xFF])
    ),
)


@FUZZ
@given(DST_PATTERNS, DST_PATTERNS, st.integers(-900, 900), st.integers(-150, 150), st.booleans(), st.integers(0, 4102444799))
def test_fuzz_settings(b, e, tz, dev, on, t):
    s = {"time_zone": tz, "daylight_savings_begin": b, "daylight_savings_end": e,
         "daylight_savings_deviation": dev, "daylight_savings_enabled": on}
    try:
        dst.check_settings(s)
    except DtimeError:
        return
    for u in (0, t, 4102444799):
        lf = dst.local_fields(u, s)
        assert dst.to_utc(*lf[:6], lf[7]) == u
        # without the deviation the wall-clock reading comes back (in the repeated hour, maybe the other instant)
        v = dst.to_utc(*lf[:6], DEV_NS, s)
        assert dst.local_fields(v, s)[:6] == lf[:6]
        assert v == u or abs(v - u) == abs(dev) * 60


# ---- time zone and daylight saving against zoneinfo ----


@pytest.mark.parametrize("rules,zone,first", ZONES, ids=[z[1] for z in ZONES])
def test_dst_window_matches_zoneinfo(rules, zone, first):
    for year in range(first, LAST_YEAR + 1):
        b, e = dst.dst_window(year, rules)
        for edge, on_after in ((b, True), (e, False)):
            assert tz_fields(edge - 1, zone)[8] != on_after, (year, edge)
            assert tz_fields(edge, zone)[8] == on_after, (year, edge)
            assert dst.local_fields(edge - 1, rules) == tz_fields(edge - 1, zone)
            assert dst.local_fields(edge, rules) == tz_fields(edge, zone)


def test_eu_rule_is_0100_utc():
    for year in range(1996, LAST_YEAR + 1):
        b, e = dst.dst_window(year, PRAGUE)
        assert dst.dst_window(year, LONDON) == (b, e)
        for t, mo in ((b, 3), (e, 10)):
            y, m, d, h, mi, s, wd = caltime.from_secs(t)
            assert (y, m, h, mi, s, wd) == (year, mo, 1, 0, 0, 7) and d + 7 > caltime.days_in_month(year, mo)


@pytest.mark.parametrize("rules,zone,first", ZONES, ids=[z[1] for z in ZONES])
def test_every_noon_and_midnight_of_some_years(rules, zone, first):
    for year in (first, 2024, 2026, 2038, LAST_YEAR):
        t0 = secs(year, 1, 1)
        for t in range(t0, secs(year + 1, 1, 1), 43200):
            assert dst.local_fields(t, rules) == tz_fields(t, zone)


@FUZZ
@given(st.integers(secs(2008, 1, 1), secs(LAST_YEAR, 12, 31)), st.sampled_from(ZONES))
def test_fuzz_local_fields_against_zoneinfo(t, z):
    rules, zone, _ = z
    lf = dst.local_fields(t, rules)
    assert lf == tz_fields(t, zone)
    # and back: with its deviation, and with the clock's rule when the client gives none
    assert dst.to_utc(*lf[:6], lf[7]) == t
    b = bytearray(12)
    dst.encode_now(b, t, rules, dtime.STATUS_DOUBTFUL)
    assert b[11] == dtime.STATUS_DOUBTFUL | (0x80 if lf[8] else 0)
    assert dst.decode_to_utc(b, rules) == t


def fold0(zone, y, mo, d, h, mi, s):
    return int(datetime.datetime(y, mo, d, h, mi, s, tzinfo=ZoneInfo(zone)).timestamp())


@pytest.mark.parametrize("rules,zone,first", ZONES, ids=[z[1] for z in ZONES])
def test_switch_hours_read_like_pep495_fold0(rules, zone, first):
    # every quarter hour of the switch nights: the skipped and the repeated hour included
    for year in (first, 2025, 2026, 2037, LAST_YEAR):
        for edge in dst.dst_window(year, rules):
            loc = edge + int(datetime.datetime.fromtimestamp(edge, ZoneInfo(zone)).utcoffset().total_seconds())
            for lt in range(loc - 3 * 3600, loc + 3 * 3600, 900):
                f = caltime.from_secs(lt)[:6]
                assert dst.to_utc(*f, DEV_NS, rules) == fold0(zone, *f), f


def test_prague_2026_switch_hours():
    # 29 March: 02:00-02:59 do not exist; 25 October: 02:00-02:59 happen twice
    assert dst.to_utc(2026, 3, 29, 1, 59, 59, DEV_NS, PRAGUE) == secs(2026, 3, 29, 0, 59, 59)
    assert dst.to_utc(2026, 3, 29, 2, 30, 0, DEV_NS, PRAGUE) == secs(2026, 3, 29, 1, 30)  # = 03:30 CEST
    assert dst.to_utc(2026, 3, 29, 3, 0, 0, DEV_NS, PRAGUE) == secs(2026, 3, 29, 1, 0)
    assert dst.to_utc(2026, 10, 25, 2, 30, 0, DEV_NS, PRAGUE) == secs(2026, 10, 25, 0, 30)  # the first 02:30
    assert dst.to_utc(2026, 10, 25, 2, 30, 0, -60, PRAGUE) == secs(2026, 10, 25, 1, 30)  # the second, by deviation
    assert dst.local_fields(secs(2026, 10, 25, 0, 59, 59), PRAGUE)[3:9] == (2, 59, 59, 7, -120, True)
    assert dst.local_fields(secs(2026, 10, 25, 1, 0, 0), PRAGUE)[3:9] == (2, 0, 0, 7, -60, False)


def test_other_rule_shapes():
    eu_on_or_following = rule(-60, "FFFF 03 19 07 02000000 8000 FF", "FFFF 0A 19 07 03000000 8000 FF")
    for year in range(2000, 2100):
        assert dst.dst_window(year, eu_on_or_following) == dst.dst_window(year, PRAGUE)
    fixed = rule(-60, "FFFF 03 1F FF 02000000 8000 FF", "FFFF 0A 1F FF 03000000 8000 FF")
    assert dst.dst_window(2026, fixed) == (secs(2026, 3, 31, 1), secs(2026, 10, 31, 1))
    second_last = rule(0, "FFFF 03 FD FF 00000000 8000 FF", "FFFF 0A FD 07 00000000 8000 FF", 30)
    # 30 March; the Sunday on or before 30 October 2026 is the 25th
    assert dst.dst_dates(2026, second_last) == (3, 30, 10, 25)
    assert dst.local_fields(secs(2026, 6, 1), second_last)[3:9] == (0, 30, 0, 1, -30, True)
    one_year = rule(-60, "07EA 04 01 FF 00000000 8000 FF", "FFFF 09 01 FF 00000000 8000 FF")
    assert dst.dst_window(2026, one_year) is not None and dst.dst_window(2027, one_year) is None
    off = dict(PRAGUE, daylight_savings_enabled=False)
    assert dst.dst_window(2026, off) is None
    assert dst.local_fields(secs(2026, 7, 1), off)[3:9] == (1, 0, 0, 3, -60, False)
    assert dst.local_fields(secs(2026, 7, 1), {"time_zone": DEV_NS})[7] == 0
    assert dst.dst_dates(2026, PRAGUE) == (3, 29, 10, 25)
    hexed = dict(PRAGUE, daylight_savings_begin="FFFF03FE07020000008000FF")
    assert dst.dst_window(2026, hexed) == dst.dst_window(2026, PRAGUE)


def test_check_settings():
    for s in (PRAGUE, LONDON, SYDNEY, {}, {"time_zone": DEV_NS}):
        dst.check_settings(s)
    for bad in (
        dict(PRAGUE, time_zone=900),
        dict(PRAGUE, time_zone=True),
        dict(PRAGUE, daylight_savings_deviation=121),
        dict(PRAGUE, daylight_savings_begin=H("FFFF FF FE 07 02000000 8000 FF")),  # no month: no rule
        dict(PRAGUE, daylight_savings_end=b"\x00" * 12),
        dict(PRAGUE, daylight_savings_end="zz"),
    ):
        with pytest.raises(DtimeError):
            dst.check_settings(bad)


# ---- the other clients read our bytes, and we read theirs ----


def gurux_parse(b):
    from gurux_dlms import GXByteBuffer
    from gurux_dlms.GXDLMSSettings import GXDLMSSettings
    from gurux_dlms.internal._GXCommon import _GXCommon
    from gurux_dlms.internal._GXDataInfo import _GXDataInfo

    return _GXCommon.getData(GXDLMSSettings(False, None), GXByteBuffer(b"\x19" + bytes(b)), _GXDataInfo())


@FUZZ
@given(st.integers(secs(2008, 1, 1), secs(2099, 12, 31)), st.sampled_from(ZONES))
def test_fuzz_gurux_and_dlms_cosem_read_our_clock(t, z):
    from dlms_cosem.time import datetime_from_bytes

    rules = z[0]
    b = bytearray(12)
    dst.encode_now(b, t, rules)
    g = gurux_parse(b)
    assert int(g.value.timestamp()) == t
    assert bool(g.status & 0x80) == dst.local_fields(t, rules)[8]
    if rules is not LONDON:  # dlms-cosem reads deviation 0 as "no zone" (naive)
        assert int(datetime_from_bytes(bytes(b))[0].timestamp()) == t


@FUZZ
@given(st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2099, 12, 31)), st.integers(-720, 720))
def test_fuzz_we_read_what_gurux_and_dlms_cosem_write(naive, minutes):
    from dlms_cosem.time import datetime_to_bytes
    from gurux_dlms import GXByteBuffer, GXDateTime
    from gurux_dlms.enums import DataType
    from gurux_dlms.GXDLMSSettings import GXDLMSSettings
    from gurux_dlms.internal._GXCommon import _GXCommon

    aware = naive.replace(microsecond=0, tzinfo=datetime.timezone(datetime.timedelta(minutes=minutes)))
    want = int(aware.timestamp())
    out = GXByteBuffer()
    _GXCommon.setData(GXDLMSSettings(False, None), out, DataType.DATETIME, GXDateTime(aware))
    gb = bytes(out.array())
    assert gb[0] == 0x19
    assert dst.decode_to_utc(gb, PRAGUE, 1) == want
    assert dst.decode_to_utc(datetime_to_bytes(aware), SYDNEY) == want


# ---- SET of the time attribute ----


def test_apply_set():
    now = secs(2026, 7, 1, 10, 20, 30)  # 12:20:30 CEST
    full = H("07EA 0C 18 04 08 00 00 00 FFC4 00")  # 2026-12-24 Thu 08:00 CET
    assert dst.apply_set(full, now, PRAGUE) == secs(2026, 12, 24, 7)
    # only the date: the time of day stays (local)
    assert dst.apply_set(H("07EA 07 02 FF FFFFFFFF 8000 FF"), now, PRAGUE) == secs(2026, 7, 2, 10, 20, 30)
    # only the time, in local time
    assert dst.apply_set(H("FFFF FF FF FF 0D 00 00 FF 8000 FF"), now, PRAGUE) == secs(2026, 7, 1, 11)
    # only the time, with a deviation: the date is the client's
    assert dst.apply_set(H("FFFF FF FF FF 00 30 00 FF 0000 FF"), now, PRAGUE) == secs(2026, 7, 1, 0, 48)
    for bad in (
        "FFFF FE FF FF FFFFFFFF 8000 FF",  # DST-begin month
        "FFFF FF FE FF FFFFFFFF 8000 FF",  # last day
        "FFFF 02 1F FF FFFFFFFF 8000 FF",  # 31 February once merged with 2026
        "07EA 07 02 01 FFFFFFFF 8000 FF",  # 2 July 2026 is a Thursday
        "07CF 01 01 FF 00000000 0000 FF",  # 1999: outside the RTC
        "0834 01 01 FF 00000000 0000 FF",  # 2100
        "07EA 0D 01 FF 00000000 0000 FF",
    ):
        with pytest.raises(DtimeError):
            dst.apply_set(H(bad), now, PRAGUE)


def test_decode_to_utc_needs_a_concrete_time():
    for bad in (
        "FFFF 01 01 FF 00000000 0000 00",
        "07E8 FF 01 FF 00000000 0000 00",
        "07E8 01 FE FF 00000000 0000 00",
        "07E8 01 01 FF FF000000 0000 00",
        "07E8 01 01 FF 00FF0000 0000 00",
        "07E8 01 01 FF 0000FF00 0000 00",
    ):
        with pytest.raises(DtimeError):
            dst.decode_to_utc(H(bad), PRAGUE)
    # hundredths and day of week may be left out
    assert dst.decode_to_utc(H("07E8 01 01 FF 000000FF 0000 FF")) == secs(2024, 1, 1)
    with pytest.raises(DtimeError):
        dst.to_utc(2024, 1, 1, 0, 0, 0, 900)


# ---- Clock methods ----


def test_method_numbers():
    assert (dst.ADJUST_TO_QUARTER, dst.ADJUST_TO_MEASURING_PERIOD, dst.ADJUST_TO_MINUTE) == (1, 2, 3)
    assert (dst.ADJUST_TO_PRESET_TIME, dst.PRESET_ADJUSTING_TIME, dst.SHIFT_TIME) == (4, 5, 6)


def test_adjust_to_quarter_and_minute():
    base = secs(2026, 7, 1, 10)
    for off, want in ((0, 0), (449, 0), (450, 900), (899, 900), (1349, 900), (1350, 1800), (3599, 3600)):
        assert dst.adjust_to_quarter(base + off, PRAGUE) == base + want
    for off, want in ((0, 0), (29, 0), (30, 60), (59, 60)):
        assert dst.adjust_to_minute(base + off) == base + want
    # a +05:45 zone: the quarter is a local one (here the same instants, 345 = 23 quarters)
    assert dst.adjust_to_quarter(base + 449, {"time_zone": -345}) == base
    # a +05:30 zone, hourly period: local hours start at *:30 UTC
    india = {"time_zone": -330}
    assert dst.adjust_to_measuring_period(secs(2026, 7, 1, 10, 29), 3600, india) == secs(2026, 7, 1, 10, 30)
    assert dst.adjust_to_measuring_period(secs(2026, 7, 1, 10, 29), 3600) == secs(2026, 7, 1, 10)
    assert dst.adjust_to_measuring_period(secs(2026, 7, 1, 10, 29), 1800) == secs(2026, 7, 1, 10, 30)
    for bad in (0, -900, 7, 86401, 900.0, True):
        with pytest.raises(DtimeError):
            dst.adjust_to_measuring_period(base, bad)


@FUZZ
@given(st.integers(0, 4102444799), st.sampled_from([None, PRAGUE, SYDNEY, {"time_zone": -345}]))
def test_fuzz_adjust_moves_at_most_half_a_period(t, rules):
    for fn, p in ((dst.adjust_to_quarter, 900), (dst.adjust_to_minute, 60)):
        r = fn(t, rules)
        assert -p // 2 < r - t <= p // 2
        lf = dst.local_fields(r, rules)
        if lf[8] == dst.local_fields(t, rules)[8]:
            assert (lf[4] * 60 + lf[5]) % p == 0


def test_shift_time_and_preset():
    t = secs(2026, 7, 1, 10)
    assert dst.shift_time(t, 900) == t + 900
    assert dst.shift_time(t, -900) == t - 900
    for bad in (901, -901, 1.0, True):
        with pytest.raises(DtimeError):
            dst.shift_time(t, bad)
    p = dst.preset_adjusting_time(t + 3600, t - 60, t + 60)
    assert dst.adjust_to_preset_time(t - 60, p) == t + 3600
    assert dst.adjust_to_preset_time(t + 60, p) == t + 3600
    for now, pr in ((t + 61, p), (t - 61, p), (t, None)):
        with pytest.raises(DtimeError):
            dst.adjust_to_preset_time(now, pr)
    with pytest.raises(DtimeError):
        dst.preset_adjusting_time(t, t + 1, t)


# ---- patterns ----


def test_matches_and_next_occurrence():
    lf = dst.local_fields(secs(2026, 3, 29, 1, 0, 0), PRAGUE)  # 03:00 CEST, Sunday 29 March
    assert lf[:9] == (2026, 3, 29, 3, 0, 0, 7, -120, True)
    assert dtime.matches(H("FFFF 03 FE 07 FFFFFFFF 8000 FF"), lf)
    assert dtime.matches(H("FFFF FE FF FF 03FFFFFF 8000 FF"), lf, PRAGUE)
    assert not dtime.matches(H("FFFF FE FF FF 03FFFFFF 8000 FF"), lf)  # DST months need the settings
    assert not dtime.matches(H("FFFF FD FF FF 03FFFFFF 8000 FF"), lf, PRAGUE)
    assert dtime.matches(H("FFFF FF FF 07"), lf) and not dtime.matches(H("FFFF FF FF 06"), lf)
    assert dtime.matches(H("03 00 FF FF"), lf) and not dtime.matches(H("03 00 00 01"), lf)
    nxt = dtime.next_occurrence
    assert nxt(H("00 00 00 FF"), lf) == (2026, 3, 30, 0, 0, 0, 1)
    assert nxt(H("FFFF FF FF 01"), lf) == (2026, 3, 30, 0, 0, 0, 1)
    assert nxt(H("FF 1E FF FF"), lf) == (2026, 3, 29, 3, 30, 0, 7)
    assert nxt(H("FFFF 02 1D FF 0C000000 8000 FF"), lf) == (2028, 2, 29, 12, 0, 0, 2)
    assert nxt(H("FFFF 02 1D 07 00000000 8000 FF"), lf) == (2032, 2, 29, 0, 0, 0, 7)
    assert nxt(H("FFFF FD FF FF 00000000 8000 FF"), lf, PRAGUE) == (2026, 10, 1, 0, 0, 0, 4)
    assert nxt(H("07E9 01 01 FF 00000000 8000 FF"), lf) is None
    assert nxt(H("07F0 01 01 FF 00000000 8000 FF"), lf) == (2032, 1, 1, 0, 0, 0, 4)
    assert nxt(H("FFFF FE 01 FF"), lf) is None  # DST month without the settings: never
    with pytest.raises(DtimeError):
        nxt(H("FFFF 02 1E FF"), lf)
    with pytest.raises(DtimeError):
        dtime.matches(H("FFFF 0D 01 FF"), lf)
    with pytest.raises(DtimeError):
        nxt(b"\xff" * 6, lf)


def test_month_days():
    md = dtime.month_days
    assert list(md(2026, 3, 0xFE, 7)) == [29]  # last Sunday
    assert list(md(2026, 3, 0xFE, NS)) == [31]
    assert list(md(2026, 3, 0xFD, NS)) == [30]
    assert list(md(2026, 3, 25, 7)) == [29]  # Sunday on or following the 25th
    assert list(md(2026, 3, 30, 7)) == []  # would spill into April
    assert list(md(2026, 3, 29, 7, True)) == [29] and list(md(2026, 3, 28, 7, True)) == []
    assert list(md(2026, 3, NS, 7)) == [1, 8, 15, 22, 29]
    assert list(md(2026, 2, 30, NS)) == []
