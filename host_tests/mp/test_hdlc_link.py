# HDLC state machines and the DLMS client on the MicroPython unix port: the 4.3 vectors, client/server round
# trips with segmentation and lost frames, and the client reading a firmware server over hal/e350.E350Link on
# the twin's paced UART and over the TCP wrapper.
import asyncio

from firmware import clock
from firmware.cosem.model import Model
from firmware.dlms import acse, hdlc
from firmware.dlms import client as dc
from firmware.dlms import hdlc_link as hl
from firmware.dlms.client import DlmsClient, DlmsError
from firmware.dlms.client_io import HdlcTransport, WrapperTransport
from firmware.dlms.hdlc_client import HdlcClient
from firmware.dlms.server import Server, Session
from firmware.dlms.tcp import DlmsTcp
from test_server import NOW, Dev, Rtc, aarq


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


def ln(s):
    return bytes([int(v) for v in s.split(".")])


REG = ln("1.0.1.8.0.255")
CLOCK = ln("0.0.1.0.0.255")
ASSOC = ln("0.0.40.0.0.255")
REGNO = ln("0.1.96.1.1.255")
SNRM = h("7E A0 07 03 21 93 0F 01 7E")
SNRM_2B = h("7E A0 08 02 23 21 93 BD 64 7E")
UA = h("7E A0 07 21 03 73 01 40 7E")
DISC = h("7E A0 07 03 21 53 03 C7 7E")
I_GET = h("7E A0 19 03 21 10 7F DA E6 E6 00 C0 01 C1 00 08 00 00 01 00 00 FF 02 00 60 1A 7E")
I_AARQ = h(
    "7E A0 2C 02 23 21 10 AF 9F E6 E6 00 60 1D A1 09 06 07 60 85 74 05 08 01 01 BE 10 04 0E 01 00 00 00 06 5F 1F"
    " 04 00 00 1E 1D FF FF C5 E4 7E"
)
I_AARE = h(
    "7E A0 38 21 02 23 30 34 E7 E6 E7 00 61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00 A3 05 A1 03 02 01 00"
    " BE 10 04 0E 08 00 06 5F 1F 04 00 00 1E 1D 04 C8 00 07 B8 6A 7E"
)
UA_METER = h("7E A0 1F 21 02 23 73 E6 C7 81 80 12 05 01 9A 06 01 9A 07 04 00 00 00 01 08 04 00 00 00 01 CC A2 7E")


class RealTicks:
    def ticks_ms(self):
        import time

        return time.ticks_ms()

    def ticks_add(self, a, b):
        import time

        return time.ticks_add(a, b)

    def ticks_diff(self, a, b):
        import time

        return time.ticks_diff(a, b)


def frames(data):
    d = hdlc.Deframer(2049)
    out = []
    for f in d.feed(bytes(data)):
        out.append(hdlc.decode(bytes(f.raw)))
    assert not d.dropped_frames
    return out


def one(data):
    fs = frames(data)
    assert len(fs) == 1
    return fs[0]


class End:
    """An HdlcServer with an application behind it (the firmware server, or a function)."""

    def __init__(self, link, server=None, app=None, drop=None):
        self.link = link
        self.server = server
        self.app = app
        self.drop = drop
        self.sess = Session(0)
        self.deframer = hdlc.Deframer(link.max_frame())
        self.requests = 0
        self.sent = 0
        self.mute = False  # on the line, listening, never answering

    def feed(self, data):
        out = []
        for f in self.deframer.feed(bytes(data)):
            ev = self.link.receive(f)
            if ev == hl.CONNECTED or ev == hl.DISCONNECTED:
                self.sess = Session(self.link.client or 0)
            o = self.link.out
            if ev == hl.APDU:
                self.requests += 1
                buf = self.link.reply_buffer()
                if self.server:
                    n = self.server.handle(self.sess, self.link.apdu, buf)
                else:
                    r = self.app(bytes(self.link.apdu))
                    buf[: len(r)] = r
                    n = len(r)
                o = self.link.reply(n)
            if o is not None:
                self.sent += 1
                if self.drop and self.drop(self.sent):
                    continue
                out.append(bytes(o))
        return out


def exchange(c, end, first):
    out = bytes(first)
    for _ in range(3000):
        ev = hl.NONE
        for r in end.feed(out):
            for f in frames(r):
                e = c.receive(f)
                if e != hl.NONE:
                    ev = e
        if ev == hl.SEND:
            out = bytes(c.out)
            continue
        if ev != hl.NONE:
            return ev
        out = bytes(c.retransmit())
    assert False, "no outcome"


def firmware_server():
    clock.init(RealTicks(), Rtc(NOW))
    dev = Dev()
    return Server(Model(dev), dev.secret, None), dev


def test_vectors():
    c = HdlcClient(0x10)
    assert bytes(c.connect()) == SNRM
    assert c.receive(one(UA)) == hl.CONNECTED
    assert bytes(c.send(h("C0 01 C1 00 08 00 00 01 00 00 FF 02 00"))) == I_GET
    assert bytes(c.disconnect()) == DISC
    s = hl.HdlcServer(physical=17, max_info_tx=0x9A, max_info_rx=0x9A)
    buf = bytearray(64)
    n = hdlc.encode_snrm(buf, (1 << 7) | 17, 0x10, (256, 256, 1, 1), 2, 1)
    assert s.receive(one(buf[:n])) == hl.CONNECTED and bytes(s.out) == UA_METER
    assert s.receive(one(I_AARQ)) == hl.APDU and bytes(s.apdu) == I_AARQ[12:-3]
    aare = I_AARE[12:-3]
    s.reply_buffer()[: len(aare)] = aare
    assert bytes(s.reply(len(aare))) == I_AARE
    assert s.receive(_disc_2b()) == hl.DISCONNECTED and bytes(s.out)[:5] == h("7E A0 08 21 02")  # UA
    c = HdlcClient(0x10, 1, 17)
    assert bytes(c.connect()) == SNRM_2B


def _disc_2b():
    buf = bytearray(32)
    return one(buf[: hdlc.encode_disc(buf, (1 << 7) | 17, 0x10, 2, 1)])


def test_segmentation_round_trips():
    for info in (32, 100, 256):
        end = End(hl.HdlcServer(max_info_tx=256, max_info_rx=256, max_apdu=4096), app=lambda q: bytes(reversed(q)))
        c = HdlcClient(0x10, max_info_tx=info, max_info_rx=info, max_apdu=4096)
        assert exchange(c, end, c.connect()) == hl.CONNECTED
        for n in (1, 28, 29, 125, 126, 127, 300, 1000, 3000):
            q = bytes([(i * 13) & 0xFF for i in range(n)])
            assert exchange(c, end, c.send(q)) == hl.APDU
            assert bytes(c.apdu) == bytes(reversed(q)), (info, n)
        assert c.retransmits == 0 and end.link.seq_errors == 0
        assert exchange(c, end, c.disconnect()) == hl.DISCONNECTED


def test_lost_frames():
    q = bytes(range(150))
    for lost in range(1, 12):
        end = End(hl.HdlcServer(max_info_tx=48, max_info_rx=48), app=lambda r: r, drop=lambda k, lost=lost: k == lost)
        c = HdlcClient(0x10, max_info_tx=48, max_info_rx=48)
        assert exchange(c, end, c.connect()) == hl.CONNECTED
        assert exchange(c, end, c.send(q)) == hl.APDU and bytes(c.apdu) == q
        assert end.requests == 1
        assert exchange(c, end, c.send(b"\x07")) == hl.APDU and bytes(c.apdu) == b"\x07"


def test_firmware_server_behind_hdlc():
    srv, dev = firmware_server()
    end = End(hl.HdlcServer(max_apdu=1024), server=srv)
    c = HdlcClient(0x10, max_info_tx=40, max_info_rx=40)
    assert exchange(c, end, c.connect()) == hl.CONNECTED
    assert exchange(c, end, c.send(aarq(1024, 0x1A1D))) == hl.APDU
    assert acse.decode_aare(bytes(c.apdu)).result == 0
    assert exchange(c, end, c.send(h("C0 01 C1 00 03 01 00 01 08 00 FF 02 00"))) == hl.APDU
    assert bytes(c.apdu) == h("C4 01 C1 00 06 00 01 E2 40")
    assert exchange(c, end, c.send(h("C0 01 C1 00 0F 00 00 28 00 00 FF 02 00"))) == hl.APDU
    assert len(c.apdu) == 1024


def test_garbage_and_wrong_sequence_numbers():
    end = End(hl.HdlcServer(max_info_tx=32, max_info_rx=32), app=lambda q: q)
    end.feed(SNRM)
    buf = bytearray(64)
    import random

    random.seed(5)
    for _ in range(300):
        k = random.getrandbits(2)
        ns, nr, pf = random.getrandbits(3), random.getrandbits(3), random.getrandbits(1)
        if k == 0:
            n = hdlc.encode_i(buf, 1, 0x10, ns, nr, b"\xe6\xe6\x00\x01", pf, bool(random.getrandbits(1)))
        elif k == 1:
            n = hdlc.encode_rr(buf, 1, 0x10, nr, pf)
        elif k == 2:
            n = hdlc.encode_frame(buf, 1, 0x10, random.getrandbits(8))
        else:
            junk = bytes([random.getrandbits(8) for _ in range(20)])
            end.feed(junk)
            continue
        end.feed(buf[:n])
    c = HdlcClient(0x10, max_info_tx=32, max_info_rx=32)
    assert exchange(c, end, c.connect()) == hl.CONNECTED
    assert exchange(c, end, c.send(b"\x09\x09")) == hl.APDU and bytes(c.apdu) == b"\x09\x09"


# ---- the client over hal/e350.E350Link on the twin's paced UART ----


def _uart_setup():
    from boards.unix import euart, evpoll
    from boards.unix.vclock import VClock

    evpoll.install()
    vc = VClock((1 << 30) - 2000)
    clock.init(vc, Rtc(NOW))
    dev, far = euart.pair(vc)
    return vc, dev, far


async def _meter(far, end):
    # The meter answers after a turnaround, as real ones do. It must also be longer than
    # the client's write: E350Link.write sleeps 2 ms per character at 9600 baud (1.04 ms
    # on the line), and bytes landing on a UART that nobody reads while the client sleeps
    # make the twin's VClock.advance() spin (EUart.next_event stays in the past).
    sr = asyncio.StreamReader(far)
    heard = 0
    while True:
        data = await sr.read(64)
        heard += len(data)
        out = [] if end.mute else end.feed(data)
        if out:
            await asyncio.sleep_ms(heard + 5)
            heard = 0
            for r in out:
                far.write(r)


async def _in_time(vc, coro, ms):
    t = asyncio.create_task(coro)
    await vc.advance(ms)
    assert t.done(), "still running after %d ms" % ms
    return await t


async def test_client_over_e350_link_at_9600():
    from hal.e350 import E350Link

    vc, dev, far = _uart_setup()
    d = Dev()
    srv = Server(Model(d), d.secret, None)
    end = End(hl.HdlcServer(max_info_tx=128, max_info_rx=128, max_apdu=1024), server=srv)
    m = asyncio.create_task(_meter(far, end))
    link = E350Link(dev)
    link.configure(9600)
    c = DlmsClient(HdlcTransport(link, max_info=128, frame_timeout_ms=500, retries=2), max_data=16384)

    async def session():
        await c.associate(0x20, b"HELLO")
        v = bytes(await c.get(3, REG, 2))
        r = await c.get_list([(3, REG, 2), (3, REG, 3), (1, ln("1.2.3.4.5.6"), 2)])
        r = [x if isinstance(x, int) else bytes(x) for x in r]  # views last until the next call
        await c.set(1, REGNO, 2, b"\x09\x03ABC")
        w = bytes(await c.get(1, REGNO, 2))
        lst = bytes(await c.get(15, ASSOC, 2))  # about 14.5 KB at 9600 baud: some 15 s of line time
        ok = await c.release()
        return v, r, w, lst, ok

    v, r, w, lst, ok = await _in_time(vc, session(), 60000)
    assert v == h("06 00 01 E2 40")
    assert r == [v, h("02 02 0F 00 16 1E"), 4], r
    assert w == b"\x09\x03ABC" and lst[:1] == b"\x01" and len(lst) > 10000 and ok
    assert not end.link.connected and c.t.timeouts == 0
    # a silent meter: SNRM, two repeats, then TIMEOUT after 1.5 s of device time
    end.mute = True

    async def silent():
        try:
            await c.associate(0x10)
            return None
        except DlmsError as e:
            return e

    t0 = vc.ticks_ms()
    e = await _in_time(vc, silent(), 3000)
    assert e is not None and e.kind == dc.TIMEOUT
    assert 1400 <= vc.ticks_diff(vc.ticks_ms(), t0) <= 3000
    assert c.t.timeouts == 1
    m.cancel()


# ---- the client over the TCP wrapper, the firmware's DlmsTcp in front of the server ----


class _Pipe:
    def __init__(self):
        self.buf = bytearray()
        self.ev = asyncio.Event()


class _Stream:
    def __init__(self, rx, tx):
        self.rx = rx
        self.tx = tx
        self.peer = ("mem", 0)
        self.closed = False

    async def readinto(self, buf):
        while not self.rx.buf and not self.closed:
            self.rx.ev.clear()
            await self.rx.ev.wait()
        n = min(len(buf), len(self.rx.buf))
        buf[:n] = self.rx.buf[:n]
        self.rx.buf = self.rx.buf[n:]
        return n

    async def write(self, data):
        self.tx.buf += data
        self.tx.ev.set()

    async def close(self):
        self.closed = True
        self.rx.ev.set()


async def test_client_over_tcp_wrapper():
    srv, dev = firmware_server()
    a, b = _Pipe(), _Pipe()
    mine, theirs = _Stream(a, b), _Stream(b, a)
    tcp = DlmsTcp(None, srv, lambda: 4059, lambda: 0)
    task = asyncio.create_task(tcp._session(theirs))
    c = DlmsClient(WrapperTransport(mine), max_data=16384, timeout_ms=2000)
    await c.associate(0x10)
    assert bytes(await c.get(3, REG, 2)) == h("06 00 01 E2 40")
    await c.associate(0x10, max_pdu=64)
    assert len(await c.get(15, ASSOC, 2)) > 10000
    try:
        await c.associate(0x20, b"WRONG")
        assert False
    except DlmsError as e:
        assert e.kind == dc.ASSOCIATION and e.code == acse.DIAG_AUTHENTICATION_FAILURE
    await c.associate(0x20, b"HELLO")
    assert await c.action(8, CLOCK, 6, h("10 00 3C")) is None
    assert await c.release()
    await theirs.close()
    await task
