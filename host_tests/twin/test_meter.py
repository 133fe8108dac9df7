"""Issue 5 on the twin, from outside: profiles and daily values against the emulated meter, power cuts, a failing meter."""
import datetime

import pytest
from dlms_cosem import cosem, enumerations, utils
from dlms_cosem.cosem.capture_object import CaptureObject
from dlms_cosem.cosem.selective_access import RangeDescriptor
from gurux_dlms import GXDateTime, GXReplyData
from gurux_dlms.objects import GXDLMSProfileGeneric

from clients import Gurux, dlms_cosem
from twinctl import TwinError
from test_dlms import READER, Head, Raw, _cosem_attr, _ready
from firmware.dlms import axdr, axdr_value

CET = datetime.timezone(datetime.timedelta(hours=1))
START = datetime.datetime(2026, 3, 2, 0, 0, 30, tzinfo=CET)  # a Monday, before the DST switch
P1, DAILY = "1.0.99.1.0.255", "1.0.99.3.0.255"
LOG4, LOG3 = "1.0.99.98.3.255", "1.0.99.98.2.255"
# (hours, currents per phase): the load varies through the two days
SCHEDULE = [(6, (5, 3, 2)), (6, (12, 0, 1)), (6, (0, 0, 0)), (6, (2, 2, 2)), (6, (8, 8, 8)), (6, (1, 0, 0)), (6, (3, 4, 5)), (6, (6, 1, 6))]
PF = (0.95, 0.9, 0.98)
U = (230.0, 231.0, 229.0)


def _power(currents):
    return sum(u * i * pf for u, i, pf in zip(U, currents, PF))


def _set_clock(twin, when=START):
    with Head("gurux", twin.dlms_port, READER) as h:
        assert h.set_clock(when) == 0


def _get(twin, cid, obis, attr, client=READER):
    with Raw(twin.dlms_port, client=client) as r:
        assert r.associate(b"HELLO" if client == READER else None) == (0, 0)
        return r.get(cid, obis, attr)


def _decode(data):
    return axdr_value.decode(axdr.Reader(memoryview(data)))


def _gurux_rows(twin, obis, how, *args):
    g = Gurux(twin.dlms_port, READER, "HELLO")
    try:
        g.associate()
        pg = GXDLMSProfileGeneric(obis)
        g.read(pg, 3)  # capture objects first: the rows are read against them
        reply = GXReplyData()
        msgs = g.client.readRowsByRange(pg, *args) if how == "range" else g.client.readRowsByEntry(pg, *args)
        g.block(msgs, reply)
        g.client.updateValue(pg, 2, reply.value)
        rows = [[_dt(r[0])] + list(r[1:]) for r in pg.buffer]
        g.release()
        return rows
    finally:
        g.close()


def _dt(value):
    """A row's capture time as an aware datetime, whichever client decoded it (Gurux's do not compare)."""
    if isinstance(value, GXDateTime):
        return value.value
    return value


def test_two_days_of_profile_and_daily_values_match_the_meter(twin):
    _ready(twin)
    _set_clock(twin)
    twin.advance(30)  # to 00:01 local: the first capture is at 00:15
    for hours, currents in SCHEDULE:
        twin.cmd("meter", set={"I": list(currents), "pf": list(PF), "U": list(U)})
        twin.advance(hours * 3600)
    dev = twin.status()["device"]
    # 4 rows an hour, and the one the twin captured as it booted, exactly on
    # a boundary (01:00 local on the RTC's lost-time 2000-01-01)
    assert dev["logs"]["profile1"] == 48 * 4 + 1 and dev["logs"]["daily"] == 2, dev["logs"]
    assert not [e for e in dev["events"] if e[1] in ("capture-failed", "server-error", "task-crash")]

    # profile 1 over a whole day by range, with gurux: 97 rows, 00:00 to 00:00 inclusive
    t0 = datetime.datetime(2026, 3, 3, 0, 0, tzinfo=CET)
    t1 = t0 + datetime.timedelta(days=1)
    rows = _gurux_rows(twin, P1, "range", GXDateTime(t0), GXDateTime(t1))
    assert len(rows) == 97, len(rows)
    times = [_dt(r[0]) for r in rows]
    assert times[0] == t0 and times[-1] == t1
    assert all(b - a == datetime.timedelta(minutes=15) for a, b in zip(times, times[1:]))
    energy = [r[1] for r in rows]  # A+ total in Wh
    assert all(b >= a for a, b in zip(energy, energy[1:]))  # monotonic
    # each quarter hour's import equals the load integrated over it (currents wobble 2 %,
    # voltages 1.5 V); a quarter in which the load changed lies between its two levels
    day_start = START + datetime.timedelta(seconds=30)
    for (ta, ea), (tb, eb) in zip(zip(times, energy), zip(times[1:], energy[1:])):
        h0 = (ta - day_start).total_seconds() / 3600
        h1 = (tb - day_start).total_seconds() / 3600
        seg0, seg1 = int(h0 // 6), int((h1 - 1e-9) // 6)
        p0, p1 = _power(SCHEDULE[seg0][1]), _power(SCHEDULE[seg1][1])
        lo, hi = min(p0, p1) * 0.25, max(p0, p1) * 0.25
        assert lo * 0.96 - 2 <= eb - ea <= hi * 1.04 + 2, (ta, eb - ea, p0, p1)

    # the daily values by entry, with gurux: two midnights, and their difference is the day's import
    daily = _gurux_rows(twin, DAILY, "entry", 1, 2)
    assert [_dt(r[0]) for r in daily] == [t0, t1]
    assert daily[0][1] == energy[0] and daily[1][1] == energy[-1]

    # the same range with dlms-cosem: the same rows
    d = dlms_cosem(twin.dlms_port, READER, b"HELLO")
    clock_col = CaptureObject(cosem_attribute=_cosem_attr(8, "0.0.1.0.0.255", 2))
    with d.session() as s:
        data = s.get(_cosem_attr(7, P1, 2), access_descriptor=RangeDescriptor(clock_col, t0, t1))
    rows2 = utils.parse_as_dlms_data(data)
    assert len(rows2) == 97 and [r[1] for r in rows2] == energy
    # and the meter itself: its import register has grown past the last row by what followed
    meter_kwh = twin.cmd("meter")["meter"]["A+_kWh"]
    assert meter_kwh * 1000 >= energy[-1]


def test_profile_rows_survive_power_cuts_during_captures(twin):
    _ready(twin)
    _set_clock(twin)
    twin.advance(2 * 3600)
    boots = twin.status()["twin"]["boots"]
    before = _gurux_rows(twin, P1, "entry", 1, 0)
    assert len(before) == 8 + 1  # and the boot-time row
    for n in range(1, 9):
        twin.cmd("power-cut", at_write=n)
        try:
            twin.advance(15 * 60)  # one capture (the readout, the row, maybe events)
            cut = twin.status()["twin"]["boots"] > boots
        except TwinError:
            cut = True  # the power died during it: the advance went with it
        if cut:
            boots += 1
            st = twin.wait_ready(boots=boots)
            twin.advance(15 * 60)  # the capture the cut interrupted comes at the next boundary
        else:
            twin.cmd("reset")  # disarm the cut: the capture needed fewer writes than n
            boots += 1
            st = twin.wait_ready(boots=boots)
        rows = _gurux_rows(twin, P1, "entry", 1, 0)
        assert rows[: len(before)] == before, n  # every completed row survived
        assert len(rows) <= len(before) + 2  # the capture cut (or not) and the next one
        times = [_dt(r[0]) for r in rows]
        assert times == sorted(times) and len(set(times)) == len(times)
        before = rows
    assert st["device"]["fs"] == "mounted"
    # the power cuts are in the blackout log: power-down at the last heartbeat, power-up after it
    log3 = _decode(_get(twin, 7, LOG3, 2)[1])[1]
    codes = [row[1][1][1] for row in log3]
    assert codes.count(40) >= 1 and codes.count(41) >= 1, codes


def test_a_silent_or_babbling_meter_is_logged_and_the_device_keeps_serving(twin):
    _ready(twin)
    _set_clock(twin)
    energy = _get(twin, 3, "1.0.1.8.0.255", 2)
    twin.cmd("meter", set={"fault": "silent"})
    twin.advance(5 * 60)
    st = twin.status()["device"]
    assert st["meter"]["link_down"] and st["module_status"] & 0x0002
    # still serving: the last values and the clock
    assert _get(twin, 3, "1.0.1.8.0.255", 2)[0] == 0
    assert _get(twin, 1, "1.1.96.5.0.255", 2, client=0x10) == (0, b"\x06" + (st["module_status"]).to_bytes(4, "big"))
    twin.cmd("meter", set={"fault": "garbage"})
    twin.advance(3 * 60)
    assert twin.status()["device"]["meter"]["link_down"]
    twin.cmd("meter", set={"fault": None})
    twin.advance(3 * 60)
    st = twin.status()["device"]
    assert not st["meter"]["link_down"] and not st["module_status"] & 0x0002
    assert _get(twin, 3, "1.0.1.8.0.255", 2) != energy  # fresh values again
    log4 = _decode(_get(twin, 7, LOG4, 2)[1])[1]
    codes = [row[1][1][1] for row in log4]
    assert 62 in codes and 63 in codes and codes.index(62) < codes.index(63), codes
    assert twin.status()["twin"]["boots"] == 1


def test_outages_of_one_phase_and_of_all(twin):
    _ready(twin)
    _set_clock(twin)
    twin.cmd("outage", phase=2, seconds=30)
    twin.advance(120)
    codes = [row[1][1][1] for row in _decode(_get(twin, 7, LOG3, 2)[1])[1]]
    assert 42 in codes, codes  # phase failure
    assert _get(twin, 1, "0.0.96.7.2.255", 2) == (0, b"\x12\x00\x01")  # the meter's L2 fail counter
    twin.advance(120)
    twin.cmd("outage", phase="all", seconds=600)
    twin.wait_ready(boots=2)
    rows = _decode(_get(twin, 7, LOG3, 2)[1])[1]
    by_code = {row[1][1][1]: row for row in rows}
    assert 40 in by_code and 41 in by_code, rows


def test_demand_register_follows_the_load(twin):
    _ready(twin)
    _set_clock(twin)
    twin.cmd("meter", set={"I": [10, 10, 10], "pf": [1, 1, 1], "U": [230, 230, 230]})
    twin.advance(20 * 60)
    p = 3 * 230 * 10
    ok, last = _get(twin, 5, "1.0.1.4.0.255", 3)
    assert ok == 0 and last[0] == 0x05
    assert abs(int.from_bytes(last[1:], "big", signed=True) - p) < p * 0.05
    ok, cur = _get(twin, 5, "1.0.1.4.0.255", 2)
    assert abs(int.from_bytes(cur[1:], "big", signed=True) - p) < p * 0.05
    assert _get(twin, 5, "1.0.1.4.0.255", 9) == (0, b"\x12\x00\x0f")  # 15 periods
    assert _get(twin, 1, "1.0.0.8.0.255", 2) == (0, b"\x06\x00\x00\x00\x3c")  # of 60 s


def test_profile_parameters_are_set_by_the_meter_reader_and_monitored(twin):
    _ready(twin)
    _set_clock(twin)
    twin.advance(3600)
    assert _get(twin, 7, P1, 7) == (0, b"\x06\x00\x00\x00\x05")  # 4, and the boot-time row
    with Raw(twin.dlms_port, client=READER) as r:
        assert r.associate(b"HELLO") == (0, 0)
        # capture period through the Data object 1.0.0.8.4.255: 30 minutes
        resp = r.request(bytes.fromhex("C101C1 0001 0100000804FF 0200") + b"\x06\x00\x00\x07\x08")
        assert resp[3] == 0, resp.hex()
        # capture objects: clock and A+ rate 1 only; the buffer is cleared
        cols = b"\x01\x02" + b"\x02\x04\x12\x00\x08\x09\x06\x00\x00\x01\x00\x00\xff\x0f\x02\x12\x00\x00"
        cols += b"\x02\x04\x12\x00\x03\x09\x06\x01\x00\x01\x08\x01\xff\x0f\x02\x12\x00\x00"
        resp = r.request(bytes.fromhex("C101C1 0007 0100630100FF 0300") + cols)
        assert resp[3] == 0, resp.hex()
        # a column that cannot be captured is refused
        bad = b"\x01\x01\x02\x04\x12\x00\x0f\x09\x06\x00\x00\x28\x00\x00\xff\x0f\x02\x12\x00\x00"
        assert r.request(bytes.fromhex("C101C1 0007 0100630100FF 0300") + bad)[3] == 12
    assert _get(twin, 7, P1, 4) == (0, b"\x06\x00\x00\x07\x08")
    assert _get(twin, 7, P1, 7) == (0, b"\x06\x00\x00\x00\x00")
    twin.advance(3600)
    rows = _decode(_get(twin, 7, P1, 2)[1])[1]
    assert len(rows) == 2 and all(len(row[1]) == 2 for row in rows)
    # the parameter monitor of profile 1 saw the last change: capture_objects (3)
    ok, changed = _get(twin, 65, "0.0.16.2.0.255", 2)
    ch = _decode(changed)[1]
    assert ok == 0 and ch[0][1] == 7 and ch[1][1] == bytes.fromhex("0100630100FF") and ch[2][1] == 3
    ok, active = _get(twin, 65, "0.0.16.2.0.255", 5)
    assert ok == 0 and len(_decode(active)[1]) == 2
