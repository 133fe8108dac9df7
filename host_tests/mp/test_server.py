# The sans-io DLMS/COSEM server on the MicroPython unix port: associations, GET/SET/ACTION, block transfer, a mutation fuzz.
from firmware import caltime, clock, defaults
from firmware.cosem import dtime, objects
from firmware.cosem.ic_assoc import SECRET_KEY
from firmware.cosem.model import Model
from firmware.dlms import acse, axdr, initiate
from firmware.dlms import xdlms_client as xc
from firmware.dlms.server import CONFORMANCE, Server, Session
from firmware.meter.values import MeterValues

PUBLIC = 0x10
READER = 0x20
NOW = caltime.to_secs(2026, 3, 10, 12, 0, 0)


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


def ln(s):
    return bytes([int(v) for v in s.split(".")])


class Ticks:
    def ticks_ms(self):
        return 0

    def ticks_add(self, a, b):
        return (a + b) & 0x3FFFFFFF

    def ticks_diff(self, a, b):
        d = (a - b) & 0x3FFFFFFF
        return d - 0x40000000 if d >= 0x20000000 else d


class Rtc:
    def __init__(self, secs):
        self.secs = secs

    def datetime(self, dt=None):
        if dt is None:
            y, mo, d, hh, mi, s, wd = caltime.from_secs(self.secs)
            return (y, mo, d, wd, hh, mi, s, 0)
        self.secs = caltime.to_secs(dt[0], dt[1], dt[2], dt[4], dt[5], dt[6])

    def valid(self):
        return True

    def set_valid(self):
        pass


class MemStore:
    def __init__(self):
        self.values = dict(defaults.CONFIG)

    def get(self, key):
        return self.values[key]

    def update(self, changes):
        for k in changes:
            if k not in self.values:
                raise KeyError(k)
        self.values.update(changes)


class Dev:
    def __init__(self):
        self.config = MemStore()
        self.factory = {"serial": "1234567", "flag": "TNX", "hw": "ETH"}
        self.firmware_version = defaults.FIRMWARE_VERSION
        self.meter = MeterValues()
        self.meter.apply([("1.8.0", "000123.456", "kWh"), ("32.7.0", "230.1", "V"), ("C.7.0", "0003", "")], NOW)
        self.events = []
        self.profiles = {}
        from firmware.events import EventLogs
        from firmware.meter.demand import Demand

        self.logs = EventLogs({}, lambda: NOW)
        self.demand = Demand(self.config)

    def event(self, name, detail=None, when=None):
        self.events.append((name, detail))

    def module_status(self):
        return 0

    def module_error(self):
        return 0

    def secret(self, client):
        key = SECRET_KEY.get(client)
        return self.config.get(key).encode() if key else None


class Rig:
    def __init__(self):
        self.rtc = Rtc(NOW)
        clock.init(Ticks(), self.rtc)
        self.dev = Dev()
        self.events = []
        self.server = Server(Model(self.dev), self.dev.secret, self._event)
        self.out = bytearray(1100)

    def _event(self, name, detail):
        self.events.append((name, detail))

    def send(self, sess, apdu):
        limit = sess.client_max_pdu
        n = self.server.handle(sess, memoryview(bytes(apdu)), self.out)
        assert 0 <= n <= limit, (n, limit)
        return bytes(self.out[:n])

    def associate(self, client=PUBLIC, pdu=0xFFFF, conformance=0xFFFFFF):
        sess = Session(client)
        pw = self.dev.secret(client) if client != PUBLIC else None
        r = self.send(sess, aarq(pdu, conformance, pw))
        assert acse.decode_aare(r).result == 0, r
        return sess


def aarq(pdu=0xFFFF, conformance=0xFFFFFF, password=None, version=6):
    a = acse.Aarq(
        user_information=initiate.InitiateRequest(
            proposed_conformance=conformance, client_max_receive_pdu_size=pdu, proposed_dlms_version_number=version
        )
    )
    if password is not None:
        a.sender_acse_requirements = True
        a.mechanism_name = acse.MECHANISM_LOW
        a.calling_authentication_value = password
    buf = bytearray(128)
    return bytes(buf[: a.encode(buf, 0)])


def desc(cid, obis, index):
    return bytes([cid >> 8, cid & 0xFF]) + obis + bytes([index & 0xFF])


def get_req(cid, obis, attr):
    return h("C0 01 C1") + desc(cid, obis, attr) + b"\x00"


def get_next(n):
    return h("C0 02 C1") + n.to_bytes(4, "big")


def set_req(cid, obis, attr, value):
    return h("C1 01 C1") + desc(cid, obis, attr) + b"\x00" + value


def action_req(cid, obis, method, params=None):
    return h("C3 01 C1") + desc(cid, obis, method) + (b"\x00" if params is None else b"\x01" + params)


def octets(b):
    if isinstance(b, str):
        b = b.encode()
    return bytes([9, len(b)]) + b


def resp(b):
    return xc.parse_response(b, xc.Response())


CLOCK = ln("0.0.1.0.0.255")
REG = ln("1.0.1.8.0.255")
REGNO = ln("0.1.96.1.1.255")
ASSOC = ln("0.0.40.0.0.255")
ASSOC_READER = ln("0.0.40.0.2.255")
REG_REQ = h("C0 01 C1 00 03 01 00 01 08 00 FF 02 00")
REG_REPLY = h("C4 01 C1 00 06 00 01 E2 40")
GX_AARQ_PUBLIC = h("60 1D A1 09 06 07 60 85 74 05 08 01 01 BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 40 1E 5D FF FF")
GX_AARQ_HELLO = h(
    "60 33 A1 09 06 07 60 85 74 05 08 01 01 8A 02 07 80 8B 07 60 85 74 05 08 02 01 AC 07 80 05 48 45 4C 4C 4F"
    " BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 40 1E 5D FF FF"
)
DC_AARQ_HELLO = h(
    "60 3F A1 09 06 07 60 85 74 05 08 01 01 A6 0A 04 08 75 74 69 A1 DF 81 65 BF 8A 02 07 80 8B 07 60 85 74 05 08"
    " 02 01 AC 07 80 05 48 45 4C 4C 4F BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 20 52 5F FF FF"
)
DC_RLRQ = h("62 15 80 01 00 BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 00 12 1D FF FF")
AARE_OK = "61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00 A3 05 A1 03 02 01 00 BE 10 04 0E 08 00 06 5F 1F 04 00 00 %s 04 00 00 07"


def rejected(diag):
    b = h("A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 01 A3 05 A1 03 02 01") + bytes([diag])
    return bytes([0x61, len(b)]) + b


def test_associations():
    rig = Rig()
    s = Session(PUBLIC)
    assert rig.send(s, GX_AARQ_PUBLIC) == h(AARE_OK % "1A 1D")
    assert s.associated and s.client_max_pdu == 1024
    s = Session(READER)
    assert rig.send(s, GX_AARQ_HELLO) == h(AARE_OK % "1A 1D")
    assert rig.send(Session(READER), DC_AARQ_HELLO) == h(AARE_OK % "12 1D")
    assert rig.send(s, aarq(password=b"HELLX")) == rejected(13)
    assert not s.associated and rig.events == [("auth-failure", READER)]
    assert rig.send(Session(READER), GX_AARQ_PUBLIC) == rejected(12)
    assert rig.send(Session(PUBLIC), GX_AARQ_HELLO) == rejected(11)
    assert rig.send(Session(0x33), GX_AARQ_PUBLIC) == rejected(1)
    tail = "A2 03 02 01 01 A3 05 A1 03 02 01 01 BE 06 04 04 0E 01 06 0%d"
    assert rig.send(Session(PUBLIC), aarq(version=5)) == h("61 1F A1 09 06 07 60 85 74 05 08 01 01 " + tail % 1)
    assert rig.send(Session(PUBLIC), aarq(pdu=63)) == h("61 1F A1 09 06 07 60 85 74 05 08 01 01 " + tail % 3)
    s = Session(READER)
    rig.send(s, DC_AARQ_HELLO)
    assert rig.send(s, DC_RLRQ) == h("63 15 80 01 00 BE 10 04 0E 08 00 06 5F 1F 04 00 00 12 1D 04 00 00 07")
    assert rig.send(s, REG_REQ) == h("D8 01 01")


def test_get():
    rig = Rig()
    s = rig.associate(PUBLIC)
    assert rig.send(s, REG_REQ) == REG_REPLY
    assert rig.send(s, get_req(3, REG, 3)) == h("C4 01 C1 00 02 02 0F 00 16 1E")
    assert rig.send(s, get_req(1, ln("1.2.3.4.5.6"), 2)) == h("C4 01 C1 01 04")
    assert rig.send(s, get_req(3, ln("0.0.42.0.0.255"), 2)) == h("C4 01 C1 01 09")
    assert rig.send(s, get_req(1, ln("1.0.0.8.0.255"), 2)) == h("C4 01 C1 01 03")
    assert rig.send(s, get_req(1, ln("0.0.42.0.0.255"), 0)) == h("C4 01 C1 01 04")
    assert rig.send(s, get_req(1, ln("0.0.42.0.0.255"), 3)) == h("C4 01 C1 01 04")
    assert rig.send(s, get_req(15, ASSOC_READER, 7)) == h("C4 01 C1 01 03")
    assert rig.send(s, get_req(1, ln("0.0.96.14.1.255"), 2)) == h("C4 01 C1 01 0B")
    assert rig.send(s, get_req(8, CLOCK, 2)) == h("C4 01 C1 00 09 0C 07 EA 03 0A 02 0D 00 00 00 FF C4 00")
    assert rig.send(s, get_next(1)) == h("C4 02 C1 01 00 00 00 01 01 10")
    q = h("C0 03 C1 03") + desc(3, REG, 2) + b"\x00" + desc(1, ln("9.9.9.9.9.9"), 2) + b"\x00" + desc(1, ln("0.0.96.7.0.255"), 2) + b"\x00"
    assert rig.send(s, q) == h("C4 03 C1 03 00 06 00 01 E2 40 01 04 00 12 00 03")


def _blocks(rig, s, q):
    r = rig.send(s, q)
    p = resp(r)
    if p.choice == 1:
        return r[4:]
    raw = b""
    n = 1
    while True:
        assert p.choice == 2 and p.block_number == n and p.result == 0, r
        assert p.raw[1] > p.raw[0]
        raw += r[p.raw[0] : p.raw[1]]
        if p.last_block:
            return raw
        r = rig.send(s, get_next(n))
        p = resp(r)
        n += 1


def test_object_list_in_blocks():
    rig = Rig()
    s = rig.associate(READER)
    s.client_max_pdu = 1100  # the whole list in one normal reply, as a reference
    ref = _blocks(rig, s, get_req(15, ASSOC, 2))
    assert ref[:4] == h("01 82 01 1A")  # 282 entries: the manual's 275 and 7 event-code objects
    r = axdr.Reader(ref)
    v = r.data()
    assert r.pos == len(ref) and len(v[1]) == objects.COUNT == 282
    for i in range(275):
        e = v[1][i][1]
        assert e[0][1] == objects.class_id(i) and e[2][1] == bytes(objects.logical_name(i))
    for pdu in (64, 65, 100, 138, 139, 256, 1024):
        s = rig.associate(READER, pdu=pdu)
        assert _blocks(rig, s, get_req(15, ASSOC, 2)) == ref, pdu
    # a wrong block number aborts the transfer
    s = rig.associate(READER, pdu=64)
    rig.send(s, get_req(15, ASSOC, 2))
    assert rig.send(s, get_next(3)) == h("C4 02 C1 01 00 00 00 03 01 0F")
    assert rig.send(s, get_next(1)) == h("C4 02 C1 01 00 00 00 01 01 10")


def test_exact_fit_without_block_transfer():
    rig = Rig()
    s = rig.associate(READER, pdu=64, conformance=CONFORMANCE & ~initiate.BLOCK_TRANSFER_WITH_GET_OR_READ)
    for m in range(33):
        rig.dev.config.update({"REGNO": "R" * m})
        for k in range(10):
            q = h("C0 03 C1") + bytes([k + 1]) + (desc(3, REG, 2) + b"\x00") * k + desc(1, REGNO, 2) + b"\x00"
            size = 7 + 6 * k + m
            r = rig.send(s, q)
            assert (len(r) == size) if size <= 64 else (r == h("D8 01 04")), (m, k)


def _clock(y, mo, d, hh, mi, s, dev, status):
    b = bytearray(12)
    dtime.encode_datetime(b, 0, (y, mo, d, dtime.weekday(y, mo, d), hh, mi, s, 0, dev, status))
    return octets(bytes(b))


def test_set():
    rig = Rig()
    s = rig.associate(READER)
    assert rig.send(s, set_req(8, CLOCK, 2, _clock(2026, 7, 1, 8, 30, 0, -120, 0))) == h("C5 01 C1 00")
    assert rig.rtc.secs == caltime.to_secs(2026, 7, 1, 6, 30, 0)
    assert rig.send(s, get_req(8, CLOCK, 2)) == h("C4 01 C1 00") + _clock(2026, 7, 1, 8, 30, 0, -120, 0x80)
    assert rig.send(s, set_req(1, REGNO, 2, octets("REG-42"))) == h("C5 01 C1 00")
    assert rig.send(s, get_req(1, REGNO, 2)) == h("C4 01 C1 00") + octets("REG-42")
    for bad in (octets(""), octets("A B"), octets("A" * 33)):
        assert rig.send(s, set_req(15, ASSOC_READER, 7, bad)) == h("C5 01 C1 0C")
    assert rig.send(s, set_req(15, ASSOC_READER, 7, octets("NEWPASS"))) == h("C5 01 C1 00")
    assert acse.decode_aare(rig.send(Session(READER), GX_AARQ_HELLO)).result == 1
    assert acse.decode_aare(rig.send(Session(READER), aarq(password=b"NEWPASS"))).result == 0
    p = rig.associate(PUBLIC)
    assert rig.send(p, set_req(1, REGNO, 2, octets("X"))) == h("C5 01 C1 03")
    # block transfer: numbers checked, the value assembled
    v = octets("BLOCKS")
    q = h("C1 02 C1") + desc(1, REGNO, 2) + b"\x00" + h("00 00 00 00 01 03") + v[:3]
    assert rig.send(s, q) == h("C5 02 C1 00 00 00 01")
    assert rig.send(s, h("C1 03 C1 01 00 00 00 03 05") + v[3:]) == h("C5 03 C1 13 00 00 00 03")
    assert rig.send(s, q) == h("C5 02 C1 00 00 00 01")
    assert rig.send(s, h("C1 03 C1 01 00 00 00 02 05") + v[3:]) == h("C5 03 C1 00 00 00 00 02")
    assert rig.dev.config.get("REGNO") == "BLOCKS"


def test_action():
    rig = Rig()
    s = rig.associate(READER)
    assert rig.send(s, action_req(8, CLOCK, 6, h("10 00 3C"))) == h("C7 01 C1 00 00")
    assert rig.rtc.secs == NOW + 60
    assert rig.send(s, action_req(8, CLOCK, 1, h("0F 00"))) == h("C7 01 C1 00 00")
    assert rig.rtc.secs == NOW
    assert rig.send(s, action_req(8, CLOCK, 0)) == h("C7 01 C1 04 00")
    assert rig.send(s, action_req(8, CLOCK, 7)) == h("C7 01 C1 04 00")
    p = rig.associate(PUBLIC)
    assert rig.send(p, action_req(8, CLOCK, 6, h("10 00 3C"))) == h("C7 01 C1 03 00")
    q = h("C3 03 C1 02") + desc(8, CLOCK, 6) + desc(8, CLOCK, 7) + h("02 10 00 0A 0F 00")
    assert rig.send(s, q) == h("C7 03 C1 02 00 00 04 00")
    assert rig.rtc.secs == NOW + 10


def _check(r, limit):
    assert len(r) <= limit
    if not r:
        return
    if r[0] == 0x61:
        acse.decode_aare(r)
    elif r[0] == 0x63:
        acse.decode_rlre(r)
    else:
        assert r[0] in (0xD8, 0xC4, 0xC5, 0xC7), r
        resp(r)


def test_mutation_fuzz():
    valid = (
        GX_AARQ_HELLO,
        DC_RLRQ,
        REG_REQ,
        get_req(15, ASSOC, 2),
        get_next(1),
        set_req(1, REGNO, 2, octets("FUZZ")),
        set_req(8, CLOCK, 2, _clock(2026, 7, 1, 8, 30, 0, -120, 0)),
        action_req(8, CLOCK, 6, h("10 00 3C")),
        h("C3 03 C1 02") + desc(8, CLOCK, 6) + desc(8, CLOCK, 3) + h("02 10 00 0A 0F 00"),
    )
    seed = 12345
    cases = []
    for q in valid:
        for cut in range(len(q)):
            cases.append(q[:cut])
        for _ in range(40):
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            b = bytearray(q)
            b[seed % len(b)] = (seed >> 8) & 0xFF
            cases.append(bytes(b))
    rig = Rig()
    s = rig.associate(READER, pdu=64)
    for q in cases:
        r = rig.send(s, q)
        _check(r, 64)
        if not s.associated or s.client_max_pdu != 64 or not s.conformance & initiate.GET:
            s = rig.associate(READER, pdu=64)
        assert rig.send(s, REG_REQ) == REG_REPLY, q
    for e in rig.events:
        assert e[0] not in ("server-error", "get-failed", "set-failed", "action-failed"), e
