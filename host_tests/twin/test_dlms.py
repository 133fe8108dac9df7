"""Acceptance tests of the DLMS server (manual 4.1) on the twin, from outside: gurux-dlms, dlms-cosem, raw APDUs."""
# Every test starts its own twin (fixtures twin/twin_factory) and talks to its
# DLMS port as a head-end would: the IEC 62056-47 wrapper on TCP, clients
# 0x10 (public, no authentication) and 0x20 (meter reader, LOW "HELLO"),
# server logical device 1. The raw helper below builds its APDUs by hand from
# the Green Book, so it does not share a codec bug with the firmware; only the
# decoding of returned Data uses the firmware's A-XDR decoder (and the
# clients' own parsers where they can).
import datetime
import logging
import os
import socket
import struct
import time

import pytest
import structlog
from dlms_cosem import cosem, dlms_data, enumerations, exceptions, utils
from dlms_cosem.client import ActionError
from dlms_cosem.parsers import AssociationObjectListParser
from dlms_cosem.protocol import acse
from dlms_cosem.time import datetime_from_bytes, datetime_to_bytes
from gurux_dlms import GXByteBuffer, GXDateTime, GXDLMSException
from gurux_dlms.enums import Command, DataType
from gurux_dlms.objects import GXDLMSClock, GXDLMSData, GXDLMSObject, GXDLMSRegister
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clients import DlmsReplyError, Gurux, dlms_cosem
from firmware.cosem import objects
from firmware.dlms import axdr, axdr_value
from twinctl import Twin

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PUBLIC, READER, UTILITY = 0x10, 0x20, 0x01
PASSWORD = {PUBLIC: None, READER: b"HELLO", UTILITY: b"UTILITY1"}
CLIENTS = ["gurux", "dlms-cosem"]

# Data-Access-Result / Action-Result (IEC 62056-5-3)
SUCCESS, TEMPORARY_FAILURE, READ_WRITE_DENIED, OBJECT_UNDEFINED, OBJECT_UNAVAILABLE = 0, 2, 3, 4, 11
AUTHENTICATION_FAILURE = 13  # acse-service-user diagnostic

LDN = "0.0.42.0.0.255"
ASSOC = "0.0.40.0.0.255"
CLOCK = "0.0.1.0.0.255"
REGNO = "0.1.96.1.1.255"
ENERGY = "1.0.1.8.0.255"
VOLTAGES = ("1.0.32.7.0.255", "1.0.52.7.0.255", "1.0.72.7.0.255")
CURRENTS = ("1.0.31.7.0.255", "1.0.51.7.0.255", "1.0.71.7.0.255")
PFS = ("1.0.33.7.0.255", "1.0.53.7.0.255", "1.0.73.7.0.255")
FREQUENCY = "1.0.14.7.0.255"
POWER = "1.0.16.7.0.255"
PROFILE = "1.0.99.1.0.255"
EVENT_CODES = {"0.0.96.11.%d.255" % e: 1 for e in range(7)}  # class 1, the event logs' code columns
# Events the device records when its catch-alls turn a bug into an error reply
_BAD_EVENTS = ("server-error", "get-failed", "set-failed", "action-failed", "task-crash")


@pytest.fixture(autouse=True, scope="module")
def _quiet_dlms_cosem():
    # dlms-cosem logs every APDU through structlog at INFO/DEBUG.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    yield
    structlog.reset_defaults()


def _manual_objects():
    """(OBIS text, class id) of every row of docs/obis-objects.tsv (the manual's list as data)."""
    rows = []
    with open(os.path.join(ROOT, "docs", "obis-objects.tsv")) as f:
        next(f)
        for line in f:
            if line.strip():
                cols = line.rstrip("\n").split("\t")
                rows.append((cols[0], int(cols[1])))
    return rows


def _obis_bytes(text):
    return bytes(int(x) for x in text.split("."))


def _obis_text(b):
    return ".".join(str(x) for x in b)


def _decode(raw):
    """Our decoder on one whole A-XDR Data: (tag, value); the Data must fill raw exactly."""
    r = axdr.Reader(memoryview(raw))
    v = axdr_value.decode(r)
    assert r.pos == len(raw), "trailing bytes after the Data"
    return v


def _ready(twin):
    """Let the first IEC 62056-21 readout of the emulated E350 land (about 7 s of device time after boot)."""
    twin.advance(15)
    st_ = twin.status()["device"]
    assert st_["meter"]["readouts"] >= 1, st_["meter"]
    return st_


def _next_readout(twin, step=5, limit=150):
    """Advance in small steps until the firmware has finished one more meter readout; returns the device status."""
    n = twin.status()["device"]["meter"]["readouts"]
    for _ in range(limit // step):
        twin.advance(step)
        dev = twin.status()["device"]
        if dev["meter"]["readouts"] > n:
            return dev
    raise AssertionError("no readout within %d s" % limit)


# ---------------------------------------------------------------- raw client
def aarq(password=None, conformance=0x007E1F, max_pdu=0xFFFF):
    """An AARQ (Green Book 9.4, BER) for LN referencing without ciphering, NONE or LOW authentication."""
    # InitiateRequest: no dedicated key, response-allowed default, no QoS, DLMS 6, conformance, max PDU
    ini = bytes((0x01, 0x00, 0x00, 0x00, 0x06, 0x5F, 0x1F, 0x04, 0x00))
    ini += conformance.to_bytes(3, "big") + max_pdu.to_bytes(2, "big")
    body = bytes.fromhex("A109060760857405080101")
    if password is not None:
        body += bytes.fromhex("8A0207808B0760857405080201")
        body += bytes((0xAC, len(password) + 2, 0x80, len(password))) + password
    body += bytes((0xBE, len(ini) + 2, 0x04, len(ini))) + ini
    return bytes((0x60, len(body))) + body


RLRQ = bytes.fromhex("6203800100")  # reason normal


def _ber(b, pos, end):
    """(tag, content start, content end) of each BER element in b[pos:end] (short and 0x81/0x82 lengths)."""
    while pos < end:
        tag = b[pos]
        n = b[pos + 1]
        pos += 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(b[pos : pos + k], "big")
            pos += k
        yield tag, pos, pos + n
        pos += n


def aare_result(apdu):
    """(association-result, result-source-diagnostic) of an AARE."""
    assert apdu[0] == 0x61, apdu.hex()
    result = diag = None
    _, s, e = next(_ber(apdu, 0, len(apdu)))
    for tag, cs, ce in _ber(apdu, s, e):
        if tag == 0xA2:
            result = apdu[ce - 1]
        elif tag == 0xA3:
            diag = apdu[ce - 1]
    return result, diag


def _length(b, pos):
    n = b[pos]
    if n < 0x80:
        return n, pos + 1
    k = n & 0x7F
    return int.from_bytes(b[pos + 1 : pos + 1 + k], "big"), pos + 1 + k


def _enc_length(n):
    if n < 0x80:
        return bytes((n,))
    if n < 0x100:
        return bytes((0x81, n))
    return bytes((0x82,)) + n.to_bytes(2, "big")


def _descriptor(cid, obis, attr):
    return cid.to_bytes(2, "big") + _obis_bytes(obis) + bytes((attr & 0xFF,))


def get_normal(cid, obis, attr, invoke=0xC1):
    return bytes((0xC0, 0x01, invoke)) + _descriptor(cid, obis, attr) + b"\x00"


def _skip_data(b, pos):
    r = axdr.Reader(memoryview(b))
    r.pos = pos
    axdr_value.decode(r)
    return r.pos


class Raw:
    """One TCP connection to the device with hand-made wrapper frames and APDUs."""

    def __init__(self, port, client=PUBLIC, timeout=5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.client = client

    def close(self):
        self.sock.close()

    def hang_up(self, timeout=5):
        """Half-close and wait for the device to close too: then its one connection slot is free again."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        closed = self.closed_by_device(timeout)
        self.sock.close()
        return closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        assert self.hang_up(), "the device did not close its side within 5 s"

    def send(self, apdu, src=None, dst=1):
        self.sock.sendall(struct.pack(">HHHH", 1, self.client if src is None else src, dst, len(apdu)) + apdu)

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("the device closed the connection")
            buf += chunk
        return buf

    def recv(self):
        v, src, dst, n = struct.unpack(">HHHH", self._exact(8))
        assert (v, src, dst) == (1, 1, self.client), (v, src, dst)
        return self._exact(n)

    def request(self, apdu):
        self.send(apdu)
        return self.recv()

    def associate(self, password=None, max_pdu=0xFFFF):
        return aare_result(self.request(aarq(password, max_pdu=max_pdu)))

    def closed_by_device(self, timeout=5):
        """True when the device closes its side (EOF or reset) within timeout; pending replies are skipped."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(4096):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def get(self, cid, obis, attr, invoke=0xC1):
        """(0, Data bytes) or (1, data-access-result) of a GET, following block transfer."""
        resp = self.request(get_normal(cid, obis, attr, invoke))
        return self._get_result(resp, invoke)[0]

    def _get_result(self, resp, invoke):
        assert resp[0] == 0xC4 and resp[2] == invoke, resp.hex()
        if resp[1] == 0x01:
            return (resp[3], resp[4:] if resp[3] == 0 else resp[4]), 1
        assert resp[1] == 0x02, resp.hex()
        data = b""
        blocks = 0
        while True:
            last, block = resp[3], int.from_bytes(resp[4:8], "big")
            blocks += 1
            assert block == blocks, (block, blocks)
            if resp[8] == 1:
                return (1, resp[9]), blocks
            n, p = _length(resp, 9)
            data += resp[p : p + n]
            assert p + n == len(resp), resp.hex()
            if last:
                return (0, data), blocks
            resp = self.request(bytes((0xC0, 0x02, invoke)) + block.to_bytes(4, "big"))
            assert resp[:3] == bytes((0xC4, 0x02, invoke)), resp.hex()

    def get_list(self, items, invoke=0xC2):
        """GET-with-list of (class, obis, attr): a list of (0, Data bytes) or (1, data-access-result)."""
        apdu = bytes((0xC0, 0x03, invoke)) + _enc_length(len(items))
        for cid, obis, attr in items:
            apdu += _descriptor(cid, obis, attr) + b"\x00"
        resp = self.request(apdu)
        assert resp[0] == 0xC4 and resp[2] == invoke, resp.hex()
        if resp[1] == 0x03:
            body = resp[3:]
        else:
            (ok, body), _ = self._get_result(resp, invoke)
            assert ok == 0, "the list failed as a whole: %r" % body
        n, p = _length(body, 0)
        assert n == len(items), (n, len(items))
        out = []
        for _ in range(n):
            if body[p] == 0:
                e = _skip_data(body, p + 1)
                out.append((0, body[p + 1 : e]))
                p = e
            else:
                assert body[p] == 1, body[p:].hex()
                out.append((1, body[p + 1]))
                p += 2
        assert p == len(body)
        return out


# ------------------------------------------------------------ client wrappers
class Head:
    """The same operations on either real client: gurux-dlms or dlms-cosem, one association."""

    def __init__(self, lib, port, client=PUBLIC, max_pdu=None):
        self.lib = lib
        self.port = port
        self.client = client
        pw = PASSWORD[client]
        if lib == "gurux":
            self.g = Gurux(port, client, pw.decode() if pw else None, max_pdu=max_pdu)
            self.g.associate()
        else:
            self.d = dlms_cosem(port, client, pw, max_pdu=max_pdu or 65535)
            self.d.connect()
            self.d.associate()

    def close(self):
        if self.lib == "gurux":
            self.g.close()
        else:
            self.d.disconnect()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def raw(self, cid, obis, attr):
        """The attribute's A-XDR Data as the device sent it."""
        if self.lib == "gurux":
            return self.g.read_raw(GXDLMSObject(cid, obis), attr)
        return self.d.get(_cosem_attr(cid, obis, attr))

    def register(self, obis):
        """A register's value with its scaler applied, as the client computes it, and its unit."""
        if self.lib == "gurux":
            r = GXDLMSRegister(obis)
            self.g.read(r, 3)
            self.g.read(r, 2)
            return float(r.value), int(r.unit)

        # (it returns a structure's elements, an array's elements, a simple value)
        scaler, unit = utils.parse_as_dlms_data(self.d.get(_cosem_attr(3, obis, 3)))
        value = utils.parse_as_dlms_data(self.d.get(_cosem_attr(3, obis, 2)))
        return value * 10**scaler, unit

    def set_clock(self, dt):
        """SET clock time (class 8 attribute 2) to an aware datetime; returns the data-access-result."""
        if self.lib == "gurux":
            c = GXDLMSClock(CLOCK)
            c.time = GXDateTime(dt)
            try:
                self.g.write(c, 2)
            except DlmsReplyError as e:
                return e.error
            return SUCCESS

        resp = self.d.set(_cosem_attr(8, CLOCK, 2), dlms_data.OctetStringData(datetime_to_bytes(dt)).to_bytes())
        return int(resp.result)

    def set_regno(self, text):
        if self.lib == "gurux":
            d = GXDLMSData(REGNO)
            d.setDataType(2, DataType.OCTET_STRING)
            d.value = text.encode()
            try:
                self.g.write(d, 2)
            except DlmsReplyError as e:
                return e.error
            return SUCCESS

        resp = self.d.set(_cosem_attr(1, REGNO, 2), dlms_data.OctetStringData(text.encode()).to_bytes())
        return int(resp.result)

    def shift_time(self, seconds):
        """ACTION clock shift_time (method 6, long); returns the action-result."""
        if self.lib == "gurux":
            try:
                self.g.method(GXDLMSClock(CLOCK), 6, seconds, DataType.INT16)
            except DlmsReplyError as e:
                return e.error
            return SUCCESS

        m = cosem.CosemMethod(enumerations.CosemInterface.CLOCK, cosem.Obis.from_string(CLOCK), 6)
        try:
            self.d.action(m, dlms_data.LongData(seconds).to_bytes())
        except ActionError as e:
            return int(getattr(enumerations.ActionResultStatus, str(e).split()[-1]))
        return SUCCESS


def _cosem_attr(cid, obis, attr):
    o = cosem.Obis.from_string(obis)
    return cosem.CosemAttribute(interface=enumerations.CosemInterface(cid), instance=o, attribute=attr)


# ------------------------------------------------------------ 1. object list
def _check_object_list(raw, client):
    """Our decoder on the raw list: every object of the manual with its class, and the client's access rights."""
    tag, entries = _decode(raw)
    assert tag == axdr.ARRAY
    seen = {}
    for t, (cid, ver, ln, rights) in entries:
        assert t == axdr.STRUCTURE and cid[0] == axdr.LONG_UNSIGNED and ver[0] == axdr.UNSIGNED
        assert ln[0] == axdr.OCTET_STRING and len(ln[1]) == 6
        text = _obis_text(ln[1])
        assert text not in seen, "listed twice: " + text
        seen[text] = (cid[1], ver[1], rights)
    manual = dict(_manual_objects())
    # every object of the manual, and beyond it only the event logs' event-code objects
    manual.update(EVENT_CODES)
    assert {o: seen[o][0] for o in seen} == manual
    # Each entry's access_rights are the documented table's for this client.
    for i in range(objects.COUNT):
        text = _obis_text(objects.logical_name(i))
        cid, ver, rights = seen[text]
        version, na, nm, _, _ = objects.CLASSES[cid]
        assert ver == version
        r, w, m = objects.access(i, client)
        attrs, methods = rights[1]
        assert [a[1][0][1] for a in attrs[1]] == list(range(1, na + 1)), text
        modes = [((r >> a) & 1) | (((w >> a) & 1) << 1) for a in range(1, na + 1)]  # 1 read, 2 write, 3 both
        assert [a[1][1][1] for a in attrs[1]] == modes, text
        assert [m_[1][0][1] for m_ in methods[1]] == list(range(1, nm + 1)), text
        assert [(m >> k) & 1 for k in range(1, nm + 1)] == [m_[1][1][1] for m_ in methods[1]], text
        # the association's secret is never listed as readable
        if cid == 15:
            assert attrs[1][6][1][1][1] & 1 == 0
    return seen


@pytest.mark.parametrize("client", [PUBLIC, READER], ids=["public", "reader"])
@pytest.mark.parametrize("lib", CLIENTS)
def test_object_list_lists_every_object_of_the_manual(twin, lib, client):
    """0.0.40.0.0.255/2 names every object of docs/obis-objects.tsv with its class, per our decoder and the client's."""
    _ready(twin)
    manual = dict(_manual_objects())
    manual.update(EVENT_CODES)  # beyond the manual: the event logs' event-code objects
    vendor = {o for o, c in manual.items() if c >= 8192}
    assert len(vendor) == 6
    if lib == "gurux":
        g = Gurux(twin.dlms_port, client, PASSWORD[client] and PASSWORD[client].decode())
        g.associate()
        raw, known = g.object_list()  # onlyKnownObjects=True: this gurux drops the manufacturer classes
        known = {o.logicalName: int(o.objectType) for o in known}
        assert {o: c for o, c in manual.items() if o not in vendor}.items() <= known.items() <= manual.items()
        every = g.client.parseObjects(GXByteBuffer(raw), False, False)
        assert {o.logicalName: int(o.objectType) for o in every} == manual
        g.release()
        g.close()
    else:
        d = dlms_cosem(twin.dlms_port, client, PASSWORD[client])
        with d.session() as s:
            raw = s.get(_cosem_attr(15, ASSOC, 2))
        entries = utils.parse_as_dlms_data(raw)
        assert {_obis_text(e[2]): e[0] for e in entries} == manual
        try:
            parsed = AssociationObjectListParser.parse_bytes(raw)
        except ValueError:  # this dlms-cosem knows no manufacturer class: parse the others
            parsed = AssociationObjectListParser.parse_entries([e for e in entries if e[0] < 8192])
        else:
            assert len(parsed) == len(manual)
        parsed = {_obis_text(o.logical_name.to_bytes()): int(o.interface) for o in parsed}
        assert {o: c for o, c in manual.items() if o not in vendor}.items() <= parsed.items() <= manual.items()
    _check_object_list(raw, client)


# ------------------------------------------------------------ 2. registers
@pytest.mark.parametrize("lib", CLIENTS)
def test_registers_follow_the_meter(twin, lib):
    """Registers with scaler_unit read as the emulated E350 measures; a new load and rate show at the next readout."""
    pfs = (0.95, 0.9, 0.98)
    twin.cmd("meter", set={"I": [5.0, 3.0, 2.0], "U": [230.0, 231.0, 229.0], "pf": list(pfs), "rate": 1})
    _ready(twin)
    _next_readout(twin)
    m = twin.cmd("meter")["meter"]
    with Head(lib, twin.dlms_port) as h:
        e0, unit = h.register(ENERGY)
        assert unit == 30  # Wh
        # the register lags the meter by the energy since the readout (< 10 s here)
        assert m["A+_kWh"] * 1000 - 15 <= e0 <= m["A+_kWh"] * 1000 + 1, (e0, m)
        for k in range(3):
            u, unit = h.register(VOLTAGES[k])
            assert unit == 35 and abs(u - m["U_V"][k]) <= 0.5, (u, m["U_V"])
            i, unit = h.register(CURRENTS[k])
            assert unit == 33 and abs(i - m["I_A"][k]) <= 0.01 * m["I_A"][k] + 0.02, (i, m["I_A"])
        for k, pf in enumerate(pfs):
            v, unit = h.register(PFS[k])
            assert unit == 255 and v == pytest.approx(pf, abs=0.0011)
        f, unit = h.register(FREQUENCY)
        assert unit == 44 and 49.97 <= f <= 50.03
        p, unit = h.register(POWER)
        assert unit == 27 and abs(p - m["P_W"]) <= 0.02 * m["P_W"], (p, m["P_W"])

    # A new load and rate 2: seen after the next readout, not before.
    load = {"I": [10.0, 12.0, 8.0], "U": [235.0, 225.0, 230.0], "pf": [1.0, 0.8, 0.5], "rate": 2}
    twin.cmd("meter", set=load)
    with Head(lib, twin.dlms_port) as h:
        assert abs(h.register(CURRENTS[0])[0] - m["I_A"][0]) < 0.5  # still the old readout
    dev1 = _next_readout(twin)
    m1 = twin.cmd("meter")["meter"]
    with Head(lib, twin.dlms_port) as h:
        for k in range(3):
            assert abs(h.register(VOLTAGES[k])[0] - load["U"][k]) <= 1.6
            assert abs(h.register(CURRENTS[k])[0] - load["I"][k]) <= 0.025 * load["I"][k]
            assert h.register(PFS[k])[0] == pytest.approx(load["pf"][k], abs=0.0011)
        p = h.register(POWER)[0]
        assert abs(p - m1["P_W"]) <= 0.02 * m1["P_W"], (p, m1)
        e1 = h.register(ENERGY)[0]
        r1_before = h.register("1.0.1.8.1.255")[0]
        r2_before = h.register("1.0.1.8.2.255")[0]
    assert e1 > e0

    # Energy grows by P*t between two readouts about ten minutes apart. (An
    # hour of twin time costs ~40 s of host time; the readout timestamps make
    # the shorter span exact.)
    twin.advance(600)
    dev2 = _next_readout(twin)
    m2 = twin.cmd("meter")["meter"]
    with Head(lib, twin.dlms_port) as h:
        e2 = h.register(ENERGY)[0]
        r1 = h.register("1.0.1.8.1.255")[0]
        r2 = h.register("1.0.1.8.2.255")[0]
    dt_h = (dev2["meter"]["when"] - dev1["meter"]["when"]) / 3600
    assert dt_h > 0.15
    power = (m1["P_W"] + m2["P_W"]) / 2
    assert e2 - e1 == pytest.approx(power * dt_h, rel=0.03), (e1, e2, power, dt_h)
    assert r2 - r2_before == pytest.approx(e2 - e1, abs=2)  # the active rate took it all
    assert r1 == r1_before
    assert abs(e2 - m2["A+_kWh"] * 1000) <= power * 15 / 3600 + 2


# ------------------------------------------------------------ 3. clock
def _utc_of(dt12):
    """UTC seconds of a COSEM date-time (UTC = local + deviation, Blue Book 4.1.6.1) and its status."""
    y, mo, d, _, h, mi, s, _, dev, status = struct.unpack(">HBBBBBBBhB", dt12)
    local = datetime.datetime(y, mo, d, h, mi, s, tzinfo=datetime.timezone.utc).timestamp()
    return local + dev * 60, status


def _read_clock(h):
    raw = h.raw(8, CLOCK, 2)
    assert raw[:2] == b"\x09\x0c", raw.hex()
    t, status = _utc_of(raw[2:])
    raw4 = h.raw(8, CLOCK, 4)
    assert raw4[0] == axdr.UNSIGNED
    assert raw4[1] & 1 == status & 1
    # the client's own reading agrees
    if h.lib == "dlms-cosem":
        dt, _ = datetime_from_bytes(raw[2:])
        assert dt.timestamp() == t
    else:
        v = h.g.read(GXDLMSClock(CLOCK), 2)
        assert v.value.timestamp() == t and int(v.status) == status
    return t, status


@pytest.mark.parametrize("lib", CLIENTS)
def test_clock_set_by_meter_reader_survives_reset_and_power_cut(twin, lib):
    """Invalid until first set; the meter reader sets it; it keeps running through a reset and a 10-minute outage."""
    with Head(lib, twin.dlms_port, READER) as h:
        _, status = _read_clock(h)
        assert status & 1, "a fresh RTC must read invalid"
        cest = datetime.timezone(datetime.timedelta(hours=2))
        target = datetime.datetime(2026, 5, 14, 10, 20, 30, tzinfo=cest)
        assert h.set_clock(target) == SUCCESS
        t_set = time.monotonic()
        t, status = _read_clock(h)
        assert status & 1 == 0
        assert abs(t - target.timestamp()) <= 2
        # Summer in Europe: the device shows CEST (deviation -120, DST bit)
        raw = h.raw(8, CLOCK, 2)
        assert raw[2 + 9 : 2 + 11] == (-120).to_bytes(2, "big", signed=True) and raw[-1] & 0x80
    assert any(e[1] == "clock-set" for e in twin.status()["device"]["events"])

    def expected():
        return target.timestamp() + time.monotonic() - t_set

    twin.cmd("reset")
    twin.wait_ready(boots=2)
    with Head(lib, twin.dlms_port, READER) as h:
        t, status = _read_clock(h)
    assert status & 1 == 0 and abs(t - expected()) <= 3, (t, expected())

    twin.cmd("power-cut", off_seconds=600)
    twin.wait_ready(boots=3)
    with Head(lib, twin.dlms_port, READER) as h:
        t, status = _read_clock(h)
    assert status & 1 == 0 and abs(t - 600 - expected()) <= 3, (t - 600, expected())
    assert twin.status()["device"]["rtc_valid"]


# ------------------------------------------------------------ 4. block transfer
@pytest.mark.parametrize("lib,pdu", [("gurux", 64), ("gurux", 128), ("dlms-cosem", 64)])
def test_object_list_by_block_transfer_with_small_pdu(twin, lib, pdu):
    """The object list in blocks no longer than the client's PDU equals the one read with a big PDU."""
    with Head(lib, twin.dlms_port) as h:
        big = h.raw(15, ASSOC, 2)
    assert len(big) > 10000
    sizes = []
    with Head(lib, twin.dlms_port, max_pdu=pdu) as h:
        if lib == "gurux":
            sock = h.g.sock

            def counting_recv(n, *a):
                b = sock.recv(n, *a)
                sizes.append(len(b))
                return b

            h.g.sock = type("S", (), {"recv": staticmethod(counting_recv), "sendall": sock.sendall})()
            small = h.raw(15, ASSOC, 2)
            h.g.sock = sock
        else:
            small = _dlms_cosem_get_counting(h, sizes)
    assert small == big
    # many replies, none longer than the client said it can take (+ the wrapper header)
    assert len(sizes) >= len(big) // pdu
    assert max(sizes) <= pdu + 8, max(sizes)


def _dlms_cosem_get_counting(h, sizes):
    tr = h.d.transport
    orig = tr.send_request

    def send_request(data):
        resp = orig(data)
        sizes.append(len(resp))
        return resp

    tr.send_request = send_request
    try:
        return h.raw(15, ASSOC, 2)
    finally:
        tr.send_request = orig


# ------------------------------------------------------------ 5. wrong password
@pytest.mark.parametrize("lib", CLIENTS)
def test_wrong_password_is_rejected_and_recorded(twin, lib):
    """A wrong LOW password: AARE rejected-permanent, authentication-failure (13), an event on the device."""
    if lib == "gurux":
        g = Gurux(twin.dlms_port, READER, "HELL0")
        with pytest.raises(GXDLMSException) as exc:
            g.associate()
        assert (int(exc.value.result), int(exc.value.diagnostic)) == (1, AUTHENTICATION_FAILURE)
        g.close()
    else:
        d = dlms_cosem(twin.dlms_port, READER, b"HELL0")
        d.connect()
        with pytest.raises(exceptions.DlmsClientException, match="AUTHENTICATION_FAILED: 13"):
            d.associate()
        d.disconnect()
        # the AARE itself, as dlms-cosem decodes it
        d = dlms_cosem(twin.dlms_port, READER, b"hello")
        d.connect()
        d.send(d.dlms_connection.get_aarq())
        aare = d.next_event()
        d.disconnect()
        assert aare.result == enumerations.AssociationResult.REJECTED_PERMANENT
        assert int(aare.result_source_diagnostics) == AUTHENTICATION_FAILURE
    events = twin.status()["device"]["events"]
    assert [e[2] for e in events if e[1] == "auth-failure"] == [READER] * (1 if lib == "gurux" else 2)
    # the refusal left the one connection slot free and the right password works
    with Head(lib, twin.dlms_port, READER) as h:
        assert h.raw(1, LDN, 2)[0] == axdr.OCTET_STRING


# ------------------------------------------------------------ 6. public may not SET or ACTION
@pytest.mark.parametrize("lib", CLIENTS)
def test_public_client_gets_read_write_denied_for_set_and_action(twin, lib):
    """SET clock/registration number and ACTION shift_time as 0x10: read-write-denied, nothing changes."""
    with Head(lib, twin.dlms_port, PUBLIC) as h:
        before = h.raw(1, REGNO, 2)
        t0, _ = _read_clock(h)
        summer = datetime.datetime(2026, 7, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
        assert h.set_clock(summer) == READ_WRITE_DENIED
        assert h.set_regno("PUB-1") == READ_WRITE_DENIED
        assert h.shift_time(3600) == READ_WRITE_DENIED
        assert h.raw(1, REGNO, 2) == before
        t1, _ = _read_clock(h)
        assert 0 <= t1 - t0 <= 5
    # the same SET and ACTION are the meter reader's to make
    with Head(lib, twin.dlms_port, READER) as h:
        assert h.set_regno("MR-%s" % lib) == SUCCESS
        assert h.raw(1, REGNO, 2) == b"\x09" + bytes((len(lib) + 3,)) + ("MR-%s" % lib).encode()
        assert h.shift_time(600) == SUCCESS
        t2, _ = _read_clock(h)
        assert 600 <= t2 - t0 <= 610


# ------------------------------------------------------------ 7. one connection
def test_a_second_connection_is_refused_while_one_is_open(twin):
    """Manual 4.1: "One connection is only allowed, other links are rejected"; the first one goes on."""
    _ready(twin)
    first = Gurux(twin.dlms_port, READER, "HELLO")
    first.associate()
    before = twin.status()["device"]["dlms"]["refused"]
    # a raw connection: accepted by the kernel, closed at once by the device
    with Raw(twin.dlms_port) as second:
        assert second.closed_by_device(timeout=3)
    # dlms-cosem cannot associate on a second connection either
    d = dlms_cosem(twin.dlms_port, PUBLIC)
    d.connect()
    with pytest.raises(exceptions.CommunicationError):
        d.associate()
    with pytest.raises(exceptions.CommunicationError):
        d.disconnect()  # its shutdown() fails on the socket the device has closed
    assert twin.status()["device"]["dlms"]["refused"] >= before + 2
    # the first session keeps working
    r = GXDLMSRegister(ENERGY)
    first.read(r, 3)
    first.read(r, 2)
    assert r.value >= 1
    first.release()
    first.close()
    # and once it has gone, the next one gets in
    deadline = time.monotonic() + 5
    while twin.status()["device"]["dlms"]["active"] and time.monotonic() < deadline:
        time.sleep(0.02)
    with Raw(twin.dlms_port) as third:
        assert third.associate() == (0, 0)
        assert third.get(3, ENERGY, 2)[0] == 0


# ------------------------------------------------------------ 8. release
@pytest.mark.parametrize("lib", CLIENTS)
def test_release_request_gets_release_response(twin, lib):
    """RLRQ gets RLRE (reason normal); the connection then has no association until a new AARQ."""
    if lib == "gurux":
        g = Gurux(twin.dlms_port, READER, "HELLO")
        g.associate()
        reply = g.release()
        assert reply.command == Command.RELEASE_RESPONSE
        sock = g.sock
    else:
        d = dlms_cosem(twin.dlms_port, READER, b"HELLO")
        with d.session() as s:  # session() associates and releases
            assert s.get(_cosem_attr(1, LDN, 2))[0] == axdr.OCTET_STRING
        d = dlms_cosem(twin.dlms_port, READER, b"HELLO")
        d.connect()
        d.associate()
        rlre = d.release_association()
        assert isinstance(rlre, acse.ReleaseResponse)
        assert rlre.reason == enumerations.ReleaseResponseReason.NORMAL
        sock = d.transport.io.tcp_socket
    # After the release, the connection is still there but has no association:
    # a GET gets an exception-response; a new AARQ is accepted again.
    raw = Raw.__new__(Raw)
    raw.sock, raw.client = sock, READER
    resp = raw.request(get_normal(1, LDN, 2))
    assert resp[0] == 0xD8, resp.hex()
    assert raw.associate(b"HELLO") == (0, 0)
    assert raw.get(1, LDN, 2)[0] == 0
    resp = raw.request(RLRQ)
    assert resp[0] == 0x63 and resp[2:5] == b"\x80\x01\x00", resp.hex()  # RLRE, reason normal
    sock.close()


# ------------------------------------------------------------ 9. inactivity
def test_idle_association_is_dropped_after_the_inactivity_time(twin):
    """No data for INACT (300 s): the device closes the connection; any request restarts the count."""
    _ready(twin)
    assert twin.status()["device"]["config"]["INACT"] == 300
    with Raw(twin.dlms_port) as c:
        assert c.associate() == (0, 0)
        twin.advance(290)
        assert c.get(3, ENERGY, 2)[0] == 0  # still there; the activity restarts the timer
        twin.advance(290)
        assert c.get(3, ENERGY, 2)[0] == 0
        twin.advance(301)
        assert c.closed_by_device(timeout=3)
    st_ = twin.status()["device"]["dlms"]
    assert st_["timeouts"] == 1 and st_["active"] is None
    # a silent connection without any association goes the same way
    with Raw(twin.dlms_port) as c:
        twin.advance(301)
        assert c.closed_by_device(timeout=3)
    with Raw(twin.dlms_port) as c:
        assert c.associate() == (0, 0)


# ------------------------------------------------------------ 10. the access table, attribute by attribute
# kinds of objects with code behind them (objects.py; "-" = logical_name only so far)
_SERVED = ("ldn", "fw", "serial", "regno", "hwconf", "meter", "reg", "clock", "assoc", "sap")


def test_every_attribute_answers_as_the_access_table_says(twin):
    """As the public client, GET every attribute of every object (with-list, 32 at a time, the server's most)."""
    _ready(twin)
    items = []
    for i in range(objects.COUNT):
        cid = objects.class_id(i)
        na = objects.CLASSES[cid][1]
        for a in range(1, na + 2):  # and one past the last attribute
            items.append((i, a))
    answers = {}
    with Raw(twin.dlms_port) as c:
        assert c.associate() == (0, 0)
        for k in range(0, len(items), 32):
            chunk = items[k : k + 32]
            got = c.get_list([(objects.class_id(i), _obis_text(objects.logical_name(i)), a) for i, a in chunk])
            answers.update(zip(chunk, got))
        # and a few one by one, to see GET-normal give the same answers
        for key in items[:: max(1, len(items) // 40)]:
            i, a = key
            assert c.get(objects.class_id(i), _obis_text(objects.logical_name(i)), a) == answers[key], key
    problems = []
    for (i, a), (kind, v) in answers.items():
        cid = objects.class_id(i)
        name = "%s/%d attr %d" % (_obis_text(objects.logical_name(i)), cid, a)
        na = objects.CLASSES[cid][1]
        readable = (objects.access(i, PUBLIC)[0] >> a) & 1
        if a > na:
            if kind != 1 or v != OBJECT_UNDEFINED:
                problems.append((name, "an attribute the class lacks", kind, v))
        elif not readable:
            if kind != 1 or v != READ_WRITE_DENIED:
                problems.append((name, "unreadable for public", kind, v))
        elif kind == 1:
            # readable: an error may only say "not now" / "not here yet", never "denied"
            if v not in (TEMPORARY_FAILURE, OBJECT_UNAVAILABLE):
                problems.append((name, "readable", kind, v))
            elif objects.kind(i) in _SERVED and a == 1:
                problems.append((name, "logical_name must always read", kind, v))
        else:
            _decode(v)  # one whole, well-formed Data
            if a == 1 and v != b"\x09\x06" + bytes(objects.logical_name(i)):
                problems.append((name, "logical_name", v.hex()))
    assert not problems, "\n".join(map(str, problems))
    # After a readout, every value with code behind it is there (no temporary-failure)
    missing = [(_obis_text(objects.logical_name(i)), a, v) for (i, a), (kind, v) in answers.items()
               if kind == 1 and v == TEMPORARY_FAILURE]
    assert not missing, missing
    bad = [e for e in twin.status()["device"]["events"] if e[1] in _BAD_EVENTS]
    assert not bad, "the server logged errors while serving the walk: %s" % bad


@pytest.mark.parametrize("client", [PUBLIC, READER, UTILITY], ids=["public", "reader", "utility"])
def test_association_secret_is_denied_to_every_client(twin, client):
    """Attribute 7 (secret) of every association object reads read-write-denied, whatever the client."""
    with Raw(twin.dlms_port, client) as c:
        assert c.associate(PASSWORD[client]) == (0, 0)
        for e in range(4):
            assert c.get(15, "0.0.40.0.%d.255" % e, 7) == (1, READ_WRITE_DENIED)
            assert c.get(15, "0.0.40.0.%d.255" % e, 6)[0] == 0  # the attribute next to it reads
        got = c.get_list([(15, "0.0.40.0.%d.255" % e, 7) for e in range(4)])
        assert got == [(1, READ_WRITE_DENIED)] * 4


# ------------------------------------------------------------ 11. malformed input
def _wrap(apdu, src=PUBLIC, dst=1, version=1, length=None):
    return struct.pack(">HHHH", version, src, dst, len(apdu) if length is None else length) + apdu


def _frames(data):
    """Split what the device sent into wrapper frames; every one must be whole and well-formed."""
    out = []
    p = 0
    while p < len(data):
        assert len(data) - p >= 8, "a cut header: %s" % data[p:].hex()
        v, src, dst, n = struct.unpack_from(">HHHH", data, p)
        assert v == 1 and src == 1 and 0 < n <= 1024, data[p : p + 8].hex()
        assert len(data) - p - 8 >= n, "a cut frame"
        out.append((dst, data[p + 8 : p + 8 + n]))
        p += 8 + n
    return out


def _exchange(port, chunks, half_close=True, timeout=5):
    """Send chunks on a fresh connection, maybe half-close; (all bytes received, whether the device closed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got = b""
    closed = False
    try:
        for c in chunks:
            try:
                s.sendall(c)
            except (BrokenPipeError, ConnectionResetError):
                break
        if half_close:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                closed = True
                break
            except socket.timeout:
                break
            if not b:
                closed = True
                break
            got += b
    finally:
        s.close()
    return got, closed


_TARGETS = [(8, CLOCK), (3, ENERGY), (1, REGNO), (15, ASSOC), (1, LDN), (7, PROFILE), (8192, "0.0.128.0.0.255"),
            (17, "0.0.41.0.0.255"), (1, "9.9.9.9.9.9")]
_VALID = [
    aarq(), aarq(b"HELLO"), aarq(b"HELLO", max_pdu=64), RLRQ,
    get_normal(15, ASSOC, 2), get_normal(3, ENERGY, 2), get_normal(8, CLOCK, 2),
    bytes.fromhex("C00281000000 01".replace(" ", "")),  # get-next
    bytes.fromhex("C0 01 C1 0007 0100630100FF 02 01 01 0204 0204 12 0008 09 06 0000010000FF 0F 02 12 0000"
                  " 090C 07E9 0101 FF 000000 00 8000 00 090C 07EA 0101 FF 000000 00 8000 00 0100".replace(" ", "")),
    bytes.fromhex("C0 03 C1 02 0003 0100010800FF 02 00 0008 0000010000FF 02 00".replace(" ", "")),
    bytes.fromhex("C1 01 C1 0008 0000010000FF 02 00 090C 07EA 0101 FF 0C0000 00 FF88 00".replace(" ", "")),
    bytes.fromhex("C1 01 C1 0001 0001600101FF 02 00 0903 414243".replace(" ", "")),
    bytes.fromhex("C1 02 C1 0001 0001600101FF 02 00 00 00000001 03 090141".replace(" ", "")),  # set first block
    bytes.fromhex("C1 03 C1 01 00000002 02 4142".replace(" ", "")),  # set next block
    bytes.fromhex("C3 01 C1 0008 0000010000FF 06 01 10 0E10".replace(" ", "")),  # shift_time
    bytes.fromhex("C3 01 C1 0008 0000010000FF 02 01 02 03 090C 07EA 0101 FF 000000 00 8000 00"
                  " 090C 07EA 0101 FF 000000 00 8000 00 090C 07EA 0101 FF 000000 00 8000 00".replace(" ", "")),
]


def _i(v, n, signed=False):
    return v.to_bytes(n, "big", signed=signed)


_DATETIME = st.tuples(
    st.sampled_from([0xFFFF, 1999, 2026, 2038, 2100]), st.sampled_from([1, 3, 10, 12, 0xFD, 0xFE, 0xFF, 13]),
    st.sampled_from([1, 28, 31, 0xFD, 0xFE, 0xFF, 0]), st.sampled_from([1, 7, 0xFF, 8]),
    st.sampled_from([0, 2, 23, 0xFF, 24]),
    st.sampled_from([0, 59, 0xFF, 60]), st.sampled_from([0, 30, 59, 0xFF]), st.sampled_from([0, 99, 0xFF]),
    st.sampled_from([-120, -60, 0, 840, 841, -0x8000]), st.integers(0, 255),
).map(lambda t: struct.pack(">HBBBBBBBhB", *t))
_LEAF = st.one_of(
    st.just(b"\x00"),
    st.integers(0, 255).map(lambda v: b"\x03" + _i(v, 1)),
    st.integers(-128, 127).map(lambda v: b"\x0F" + _i(v, 1, True)),
    st.integers(-32768, 32767).map(lambda v: b"\x10" + _i(v, 2, True)),
    st.integers(0, 255).map(lambda v: b"\x11" + _i(v, 1)),
    st.integers(0, 0xFFFF).map(lambda v: b"\x12" + _i(v, 2)),
    st.integers(0, 2**32 - 1).map(lambda v: b"\x06" + _i(v, 4)),
    st.integers(0, 255).map(lambda v: b"\x16" + _i(v, 1)),
    st.binary(max_size=40).map(lambda b: b"\x09" + _enc_length(len(b)) + b),
    st.binary(max_size=40).map(lambda b: b"\x0A" + _enc_length(len(b)) + b),
    _DATETIME.map(lambda b: b"\x09\x0C" + b),
    _DATETIME.map(lambda b: b"\x19" + b),
)
_DATA = st.recursive(
    _LEAF,
    lambda kids: st.tuples(st.sampled_from([b"\x01", b"\x02"]), st.lists(kids, max_size=4)).map(
        lambda t: t[0] + bytes((len(t[1]),)) + b"".join(t[1])),
    max_leaves=8,
)


@st.composite
def _request(draw):
    """A well-formed GET/SET/ACTION (or nearly: counts and blocks are drawn freely) on a real or missing object."""
    def target():
        cid, obis = draw(st.sampled_from(_TARGETS))
        return _descriptor(cid, obis, draw(st.integers(0, 12)))

    def access():
        if draw(st.integers(0, 4)):
            return b"\x00"
        return b"\x01" + _i(draw(st.integers(0, 3)), 1) + draw(_DATA)

    inv = b"\xC1"
    kind = draw(st.sampled_from(["get", "get-list", "get-next", "set", "set-list", "set-first", "set-block", "action",
                                 "action-list"]))
    if kind == "get":
        return b"\xC0\x01" + inv + target() + access()
    if kind == "get-list":
        n = draw(st.integers(0, 4))
        count = draw(st.sampled_from([n, n, 0, 33]))
        return b"\xC0\x03" + inv + bytes((count,)) + b"".join(target() + access() for _ in range(n))
    if kind == "get-next":
        return b"\xC0\x02" + inv + _i(draw(st.integers(0, 4)), 4)
    if kind == "set":
        return b"\xC1\x01" + inv + target() + access() + draw(_DATA)
    if kind == "set-list":
        n = draw(st.integers(0, 3))
        return (b"\xC1\x04" + inv + bytes((n,)) + b"".join(target() + access() for _ in range(n))
                + bytes((draw(st.sampled_from([n, n, 0, 5])),)) + b"".join(draw(_DATA) for _ in range(n)))
    if kind == "set-first":
        raw = draw(_DATA)[: draw(st.integers(0, 60))]
        head = b"\xC1\x02" + inv + target() + access()
        return head + bytes((draw(st.integers(0, 1)),)) + _i(draw(st.integers(0, 2)), 4) + _enc_length(len(raw)) + raw
    if kind == "set-block":
        raw = draw(st.binary(max_size=40))
        last, block = draw(st.integers(0, 1)), draw(st.integers(0, 3))
        return b"\xC1\x03" + inv + bytes((last,)) + _i(block, 4) + _enc_length(len(raw)) + raw
    if kind == "action":
        params = draw(st.one_of(st.just(b"\x00"), _DATA.map(lambda d: b"\x01" + d)))
        return b"\xC3\x01" + inv + target() + params
    n = draw(st.integers(0, 3))
    return (b"\xC3\x03" + inv + bytes((n,)) + b"".join(target() for _ in range(n))
            + bytes((draw(st.sampled_from([n, n, 0])),)) + b"".join(b"\x01" + draw(_DATA) for _ in range(n)))


@st.composite
def _apdu(draw):
    how = draw(st.sampled_from(["random", "mutated", "request", "request", "mutated-request"]))
    if how == "random":
        return draw(st.binary(min_size=0, max_size=120))
    if how.startswith("request"):
        return draw(_request())
    a = bytearray(draw(_request()) if how == "mutated-request" else draw(st.sampled_from(_VALID)))
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["cut", "flip", "insert", "grow"]))
        k = draw(st.integers(0, max(0, len(a) - 1)))
        if op == "cut":
            del a[k:]
        elif op == "flip" and a:
            a[k] = draw(st.integers(0, 255))
        elif op == "insert":
            a[k:k] = draw(st.binary(min_size=1, max_size=8))
        else:
            a += draw(st.binary(min_size=1, max_size=40))
    return bytes(a)


@st.composite
def _case(draw):
    kind = draw(st.sampled_from(["apdus"] * 4 + ["truncated", "short-header", "oversized", "version", "bytes"]))
    if kind == "apdus":
        login = draw(st.sampled_from([None, PUBLIC, READER, READER]))
        pdu = draw(st.sampled_from([0xFFFF, 64, 100]))
        me = login or PUBLIC
        src = draw(st.sampled_from([me] * 8 + [PUBLIC, READER, 0x01, 0x7F, 0xFFFF]))
        dst = draw(st.sampled_from([1] * 8 + [0, 0x10, 0xFFFF]))
        return kind, (login, pdu, src, dst, draw(st.lists(_apdu(), min_size=1, max_size=4)))
    if kind == "truncated":
        n = draw(st.integers(1, 1024))
        return kind, _wrap(draw(st.binary(max_size=min(n - 1, 200))), length=n)
    if kind == "short-header":
        return kind, _wrap(b"")[: draw(st.integers(1, 7))]
    if kind == "oversized":
        return kind, _wrap(draw(st.binary(max_size=64)), length=draw(st.integers(1025, 0xFFFF)))
    if kind == "version":
        return kind, _wrap(get_normal(1, LDN, 2), version=draw(st.sampled_from([0, 2, 0x100, 0xFFFF])))
    return kind, draw(st.binary(min_size=1, max_size=300))


# Requests at the edges of the services, answered one by one on a meter-reader association.
_EDGES = [
    b"\xC0\x03\xC1\x00",  # GET-with-list of nothing
    b"\xC0\x03\xC1\x21" + (_descriptor(1, LDN, 2) + b"\x00") * 33,  # one more than the server takes
    b"\xC0\x02\xC1\x00\x00\x00\x01",  # GET-next with no long GET
    b"\xC1\x03\xC1\x00\x00\x00\x00\x01\x01\x41",  # SET datablock with no first block
    b"\xC1\x04\xC1\x00\x00",  # SET-with-list of nothing
    b"\xC3\x03\xC1\x00\x00",  # ACTION-with-list of nothing
    b"\xC3\x01\xC1" + _descriptor(8, CLOCK, 6) + b"\x01",  # parameters announced, none given
    b"\xC3\x01\xC1" + _descriptor(8, CLOCK, 6) + b"\x00",  # shift_time without its parameter
    b"\xC0\x01\xC1" + _descriptor(1, LDN, 2) + b"\x01",  # selective access without a selector
    b"\xC0\x01\xC1" + _descriptor(7, PROFILE, 2) + b"\x01\x01\x02\x04\x00\x00\x00\x00",  # a range of nulls
    # an entry descriptor on an attribute that takes no selective access
    b"\xC0\x01\xC1" + _descriptor(15, ASSOC, 2) + bytes.fromhex("0102020406000000050600000001120000120000"),
    b"\xC1\x01\xC1" + _descriptor(8, CLOCK, 2) + b"\x00\x09\x0C" + b"\xFF" * 12,  # every field unspecified
    b"\xC1\x01\xC1" + _descriptor(8, CLOCK, 3) + b"\x00\x10\x80\x00",  # time zone -32768
    b"\xC1\x01\xC1" + _descriptor(8, CLOCK, 5) + b"\x00\x09\x0C" + b"\x00" * 12,  # DST begin of zeros
    b"\xC1\x01\xC1" + _descriptor(1, REGNO, 2) + b"\x00\x09\x81\xFF" + b"A" * 10,  # length beyond the APDU
    b"\x60\x00", b"\x62\x00", b"\x63\x00", b"\x61\x00", b"\xD8\x01\x01", b"\xE0\x00", b"\xC8\x00",
    aarq(b"HELLO", max_pdu=10),  # a PDU size too small for anything
    aarq(b"HELLO", conformance=0),  # nothing in common
    aarq(b"HELLO", max_pdu=64),
    get_normal(15, ASSOC, 2),  # a long GET in 64-octet blocks; a wrong next block aborts it; then none is left
    b"\xC0\x02\xC1\x00\x00\x00\x05",
    b"\xC0\x02\xC1\x00\x00\x00\x01",
    get_normal(15, ASSOC, 2),
    get_normal(3, ENERGY, 2),  # a new GET in the middle of a long one
    b"\xC0\x02\xC1\x00\x00\x00\x01",
]


def _register_read_works(port):
    with Raw(port) as c:
        assert c.associate() == (0, 0)
        ok, data = c.get(3, ENERGY, 2)
        assert ok == 0 and data[0] == axdr.DOUBLE_LONG_UNSIGNED, (ok, data)


def _fuzz_one(twin, case):
    port = twin.dlms_port
    kind, arg = case
    if kind == "apdus":
        login, pdu, src, dst, apdus = arg
        pre = []
        if login is not None:
            pre = [_wrap(aarq(PASSWORD[login], max_pdu=pdu), src=login)]
        chunks = pre + [_wrap(a, src=src, dst=dst) for a in apdus]
        got, closed = _exchange(port, chunks)
        assert closed, "no close within 5 s after our half-close"
        frames = _frames(got)
        expected = len(pre) + (len([a for a in apdus if a]) if dst == 1 else 0)
        if any(len(a) > 1024 for a in apdus):
            expected = None  # a frame over our PDU ends the connection early
        if expected is not None:
            assert len(frames) == expected, (len(frames), expected, [f[1].hex() for f in frames])
        for k, (to, apdu) in enumerate(frames):
            assert to == (login if k < len(pre) else src), (to, src)
    elif kind in ("oversized", "version"):
        # The stream cannot be resynchronised: an exception-response, then the device hangs up by itself.
        got, closed = _exchange(port, [arg], half_close=False)
        assert closed, "the device kept a connection with broken framing open"
        frames = _frames(got)
        assert len(frames) == 1 and frames[0][1][0] == 0xD8, [f[1].hex() for f in frames]
    else:
        # No whole request: no answer, and the device closes when we do.
        got, closed = _exchange(port, [arg])
        assert closed, "no close within 5 s after our half-close"
        _frames(got)
    _register_read_works(port)
    # The server's catch-all turns a bug into an error reply: look for it (the status keeps the last 20 events).
    bad = [e for e in twin.status()["device"]["events"] if e[1] in _BAD_EVENTS]
    assert not bad, bad


def test_fuzz_malformed_input_at_the_running_twin():
    """Malformed frames and APDUs on fresh connections: an error reply or a close, never a hang, crash or reboot."""
    with Twin() as twin:
        _ready(twin)
        port = twin.dlms_port

        @settings(derandomize=True, max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")), deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(_case())
        def run(case):
            _fuzz_one(twin, case)

        run()

        # The services' edges, one reply each, then the link still serves.
        got, closed = _exchange(port, [_wrap(aarq(b"HELLO"), src=READER)] + [_wrap(a, src=READER) for a in _EDGES])
        assert closed
        frames = _frames(got)
        assert len(frames) == 1 + len(_EDGES), [f[1].hex() for f in frames]
        assert not [e for e in twin.status()["device"]["events"] if e[1] in _BAD_EVENTS]
        _register_read_works(port)

        # Every fixed shape once, whatever hypothesis drew.
        for case in [("truncated", _wrap(b"\xC0\x01", length=100)), ("short-header", b"\x00\x01\x00"),
                     ("oversized", _wrap(b"", length=0xFFFF)), ("version", _wrap(b"\xC0", version=2)),
                     ("bytes", b"GET / HTTP/1.0\r\n\r\n")]:
            _fuzz_one(twin, case)

        # A valid request byte by byte, 2 ms apart: reassembled, answered.
        with Raw(port, READER) as c:
            for frame, check in ((_wrap(aarq(b"HELLO"), src=READER), lambda r: aare_result(r) == (0, 0)),
                                 (_wrap(get_normal(3, ENERGY, 2), src=READER), lambda r: r[:4] == b"\xC4\x01\xC1\x00")):
                for b in frame:
                    c.sock.sendall(bytes((b,)))
                    time.sleep(0.002)
                assert check(c.recv())

        st_ = twin.status()
        assert st_["twin"]["boots"] == 1 and st_["device"]["boots"] == 1, st_["twin"]
        assert not st_["device"]["crashes"], st_["device"]["crashes"]
