# COSEM date-time and the Clock's time logic on MicroPython: the captured vectors, a Prague DST year, the methods.
from firmware import caltime
from firmware.cosem import dst, dtime
from firmware.cosem.dtime import DEV_NS, NS, DtimeError
from firmware.dlms.axdr import Writer

PRAGUE = {
    "time_zone": -60,
    "daylight_savings_begin": bytes.fromhex("FFFF03FE07020000008000FF"),
    "daylight_savings_end": bytes.fromhex("FFFF0AFE07030000008000FF"),
    "daylight_savings_deviation": 60,
    "daylight_savings_enabled": True,
}


def _raises(fn, *args):
    try:
        fn(*args)
    except DtimeError:
        return
    raise AssertionError("no DtimeError")


def test_get_clock_vector():
    b = bytes.fromhex("07EA0B19FF00222000000000")
    assert dtime.decode_datetime(memoryview(b)) == (2026, 11, 25, NS, 0, 34, 32, 0, 0, 0)
    t = caltime.to_secs(2026, 11, 25, 0, 34, 32)
    assert dst.decode_to_utc(b, PRAGUE) == t
    w = Writer(bytearray(14))
    dst.encode_now(w, t, None)
    assert bytes(w.buf) == bytes.fromhex("090C07EA0B190300222000000000")
    raw = bytearray(12)
    dst.encode_now(raw, t, PRAGUE)
    assert bytes(raw) == bytes.fromhex("07EA0B1903012220" "00FFC400")


def test_range_descriptor_deviations():
    ns = bytes.fromhex("07E80101FF02000000800000")  # dlms-cosem: deviation not specified
    utc = bytes.fromhex("07E80101FF02000000000000")  # Gurux: deviation 0 = UTC
    assert dst.decode_to_utc(ns) == caltime.to_secs(2024, 1, 1, 2)
    assert dst.decode_to_utc(ns, PRAGUE) == caltime.to_secs(2024, 1, 1, 1)
    assert dst.decode_to_utc(utc, PRAGUE) == caltime.to_secs(2024, 1, 1, 2)


def test_prague_2026():
    b, e = dst.dst_window(2026, PRAGUE)
    assert b == caltime.to_secs(2026, 3, 29, 1) and e == caltime.to_secs(2026, 10, 25, 1)
    assert dst.local_fields(b - 1, PRAGUE) == (2026, 3, 29, 1, 59, 59, 7, -60, False)
    assert dst.local_fields(b, PRAGUE) == (2026, 3, 29, 3, 0, 0, 7, -120, True)
    assert dst.local_fields(e - 1, PRAGUE) == (2026, 10, 25, 2, 59, 59, 7, -120, True)
    assert dst.local_fields(e, PRAGUE) == (2026, 10, 25, 2, 0, 0, 7, -60, False)
    # the skipped 02:30 is read as standard time, the repeated one as the first (daylight)
    assert dst.to_utc(2026, 3, 29, 2, 30, 0, DEV_NS, PRAGUE) == caltime.to_secs(2026, 3, 29, 1, 30)
    assert dst.to_utc(2026, 10, 25, 2, 30, 0, DEV_NS, PRAGUE) == caltime.to_secs(2026, 10, 25, 0, 30)
    out = bytearray(12)
    dst.encode_now(out, caltime.to_secs(2024, 6, 15, 18, 23, 45), PRAGUE)
    assert bytes(out) == bytes.fromhex("07E8060F0614172D00FF8880")  # as an IDIS meter sends it


def test_invalid_and_garbage():
    for h in (
        "07E80D01FF000000000000",  # short
        "07E80D01FF00000000000000",  # month 13
        "07E80120FF00000000000000",  # day 32
        "07E80101FF19000000000000",  # hour 25
        "07E80101020000000000" "0000",  # Tuesday 1 January 2024
        "07E80101FF00000000034900",  # deviation 841
    ):
        _raises(dtime.decode_datetime, bytes.fromhex(h))
    _raises(dst.decode_to_utc, bytes.fromhex("FFFF0101FF00000000000000"))
    _raises(dst.apply_set, bytes.fromhex("07CF0101FF00000000000000"), 0, None)
    x = 0x12345
    for i in range(300):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        b = bytes((x >> (k % 24)) & 0xFF for k in range(12))
        try:
            dst.decode_to_utc(b, PRAGUE)
        except DtimeError:
            pass


def test_methods():
    t = caltime.to_secs(2026, 7, 1, 10)
    assert dst.adjust_to_quarter(t + 449, PRAGUE) == t
    assert dst.adjust_to_quarter(t + 450, PRAGUE) == t + 900
    assert dst.adjust_to_minute(t + 30) == t + 60
    assert dst.adjust_to_measuring_period(t - 60, 1800, {"time_zone": -330}) == t
    assert dst.shift_time(t, -900) == t - 900
    _raises(dst.shift_time, t, 901)
    _raises(dst.shift_time, t, True)
    p = dst.preset_adjusting_time(t + 5, t - 1, t + 1)
    assert dst.adjust_to_preset_time(t, p) == t + 5
    _raises(dst.adjust_to_preset_time, t + 2, p)


def test_patterns():
    lf = dst.local_fields(caltime.to_secs(2026, 3, 29, 1), PRAGUE)
    assert dtime.matches(bytes.fromhex("FFFF03FE07FFFFFFFF8000FF"), lf)
    assert dtime.matches(bytes.fromhex("FFFFFEFFFF03FFFFFF8000FF"), lf, PRAGUE)
    assert dtime.next_occurrence(bytes.fromhex("00000000"), lf) == (2026, 3, 30, 0, 0, 0, 1)
    assert dtime.next_occurrence(bytes.fromhex("FFFF021D07"), lf) == (2032, 2, 29, 0, 0, 0, 7)
