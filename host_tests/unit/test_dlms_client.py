"""The DLMS/COSEM client session (firmware/dlms/client.py) and its transports (client_io.py) against the firmware's
own server: over HDLC on an emulated UART and over the TCP wrapper; block transfer, with-list, SET, ACTION, LOW
authentication, and peers that are silent, lossy or send garbage (IEC 62056-5-3, -46, -47)."""
import asyncio
import time

import pytest

from dlms_rig import ASSOC, CLOCK, LDN, NOW, PUBLIC, READER, REG, REGNO, VOLT, Rig, RealTicks, Rtc, ln
from firmware import clock
from firmware.dlms import acse, axdr, hdlc, xdlms
from firmware.dlms import client as dc
from firmware.dlms import hdlc_link as hl
from firmware.dlms.client import DlmsClient, DlmsError
from firmware.dlms.client_io import HdlcTransport, WrapperTransport
from firmware.dlms.server import Session
from firmware.dlms.tcp import DlmsTcp


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


@pytest.fixture(autouse=True)
def _micropython_asyncio(monkeypatch):
    # The two MicroPython asyncio calls the firmware uses, on CPython.
    async def wait_for_ms(aw, ms):
        return await asyncio.wait_for(aw, ms / 1000)

    async def sleep_ms(ms):
        await asyncio.sleep(ms / 1000)

    monkeypatch.setattr(asyncio, "wait_for_ms", wait_for_ms, raising=False)
    monkeypatch.setattr(asyncio, "sleep_ms", sleep_ms, raising=False)


def run(coro):
    return asyncio.run(coro)


def octets(s):
    s = s.encode() if isinstance(s, str) else s
    return bytes((9, len(s))) + s


def value(mv):
    r = axdr.Reader(mv)
    v = r.data()
    assert r.pos == len(mv)
    return v


# ---- the emulated UART and the meter behind it ----


class Meter:
    """An HdlcServer with the firmware's DLMS server behind it, fed the bytes the client writes.
    fault(k, frame) may drop ("drop"), delay nothing else: it sees every frame the meter would send."""

    def __init__(self, rig, max_info=128, max_apdu=1024, physical=None, fault=None):
        self.rig = rig
        self.link = hl.HdlcServer(physical=physical, max_info_tx=max_info, max_info_rx=max_info, max_apdu=max_apdu)
        self.deframer = hdlc.Deframer(self.link.max_frame())
        self.sess = Session(0)
        self.fault = fault
        self.sent = 0
        self.requests = 0

    def __call__(self, data):
        out = []
        for f in self.deframer.feed(data):
            ev = self.link.receive(f)
            if ev in (hl.CONNECTED, hl.DISCONNECTED):
                self.sess = Session(self.link.client or 0)
            if ev == hl.APDU:
                self.requests += 1
                n = self.rig.server.handle(self.sess, self.link.apdu, self.link.reply_buffer())
                o = self.link.reply(n)
            else:
                o = self.link.out
            if o is not None:
                self.sent += 1
                if self.fault and self.fault(self.sent, bytes(o)) == "drop":
                    continue
                out.append(bytes(o))
        return out


class Uart:
    """The client's end of an emulated UART: what it writes goes to peer(bytes) -> [bytes]; read() gets the answers."""

    def __init__(self, peer=None, junk=None):
        self.peer = peer
        self.junk = junk  # bytes sent, over and over, instead of answers
        self.rx = bytearray()
        self.ev = asyncio.Event()
        self.writes = []

    async def write(self, data):
        self.writes.append(bytes(data))
        if self.peer:
            for r in self.peer(bytes(data)):
                self.rx += r
        if self.rx:
            self.ev.set()

    async def read(self, n):
        if self.junk is not None:
            await asyncio.sleep(0.002)
            return self.junk[:n]
        while not self.rx:
            self.ev.clear()
            await self.ev.wait()
        d = bytes(self.rx[:n])
        del self.rx[:n]
        return d

    def discard_input(self):
        self.rx.clear()


def hdlc_client(rig=None, max_info=128, max_pdu=1024, fault=None, frame_timeout_ms=200, retries=3, **kw):
    rig = rig or Rig()
    meter = Meter(rig, max_info=max_info, fault=fault)
    uart = Uart(meter)
    t = HdlcTransport(uart, max_info=max_info, max_apdu=max_pdu, frame_timeout_ms=frame_timeout_ms, retries=retries)
    kw.setdefault("max_data", 16384)  # the device's object list is about 14.5 KB
    return DlmsClient(t, max_pdu=max_pdu, **kw), meter, uart, rig


# ---- the TCP wrapper over an in-memory connection, the firmware's DlmsTcp behind it ----


class Pipe:
    def __init__(self):
        self.buf = bytearray()
        self.ev = asyncio.Event()
        self.closed = False


class Stream:
    """One end of an in-memory byte stream with the hal/transport interface."""

    def __init__(self, rx, tx):
        self.rx = rx
        self.tx = tx
        self.peer = ("mem", 0)

    async def readinto(self, buf):
        while not self.rx.buf and not self.rx.closed:
            self.rx.ev.clear()
            await self.rx.ev.wait()
        n = min(len(buf), len(self.rx.buf))
        buf[:n] = self.rx.buf[:n]
        del self.rx.buf[:n]
        return n

    async def write(self, data):
        if self.tx.closed:
            raise OSError(32)
        self.tx.buf += data
        self.tx.ev.set()

    async def close(self):
        self.tx.closed = self.rx.closed = True
        self.tx.ev.set()
        self.rx.ev.set()


def stream_pair():
    a, b = Pipe(), Pipe()
    return Stream(a, b), Stream(b, a)


async def tcp_client(rig, max_pdu=1024, **kw):
    mine, theirs = stream_pair()
    srv = DlmsTcp(None, rig.server, lambda: 4059, lambda: 0)
    task = asyncio.create_task(srv._session(theirs))
    kw.setdefault("max_data", 16384)
    return DlmsClient(WrapperTransport(mine, max_apdu=max_pdu), max_pdu=max_pdu, **kw), task


# ---- the services, on both transports ----


async def _services(c, rig):
    await c.associate(PUBLIC)
    assert c.associated and c.conformance & dc.CONFORMANCE == c.conformance
    assert bytes(await c.get(3, REG, 2)) == h("06 00 01 E2 40")
    assert bytes(await c.get(3, REG, 3)) == h("02 02 0F 00 16 1E")
    assert bytes(await c.get(8, CLOCK, 2))[:2] == h("09 0C")
    # an undefined object: its Data-Access-Result
    with pytest.raises(DlmsError) as e:
        await c.get(3, ln("1.2.3.4.5.6"), 2)
    assert (e.value.kind, e.value.code) == (dc.DATA_ACCESS, xdlms.OBJECT_UNDEFINED)
    # with-list: values and a result per item
    r = await c.get_list([(3, REG, 2), (3, ln("1.2.3.4.5.6"), 2), (3, VOLT, 3), (1, LDN, 2)])
    assert bytes(r[0]) == h("06 00 01 E2 40") and r[1] == xdlms.OBJECT_UNDEFINED
    assert bytes(r[2])[:1] == b"\x02" and bytes(r[3])[:1] == b"\x09"
    # the object list, in blocks
    raw = await c.get(15, ASSOC, 2)
    v = value(raw)
    assert len(v[1]) > 20
    assert await c.release()
    # read-write: LOW with the meter reader's password
    await c.associate(READER, b"HELLO")
    await c.set(1, REGNO, 2, octets("REG-42"))
    assert bytes(await c.get(1, REGNO, 2)) == octets("REG-42")
    with pytest.raises(DlmsError) as e:
        await c.set(1, REGNO, 2, octets("R" * 33))
    assert (e.value.kind, e.value.code) == (dc.DATA_ACCESS, xdlms.TYPE_UNMATCHED)
    assert await c.action(8, CLOCK, 6, h("10 00 3C")) is None  # shift_time +60 s
    assert rig.rtc.secs == NOW + 60
    with pytest.raises(DlmsError) as e:
        await c.action(8, CLOCK, 6, h("10 03 85"))  # 901 s: out of range
    assert e.value.kind == dc.ACTION_RESULT and e.value.code == 12
    # SET with datablocks: a server PDU too small for the value
    pdu = c.server_max_pdu
    c.server_max_pdu = 24
    await c.set(1, REGNO, 2, octets("BLOCK-WISE-REGNO-1234567890"))
    c.server_max_pdu = pdu
    assert bytes(await c.get(1, REGNO, 2)) == octets("BLOCK-WISE-REGNO-1234567890")
    # the assembled value is checked: over 1024 bytes, in blocks, refused as a whole
    with pytest.raises(DlmsError) as e:
        await c.set(1, REGNO, 2, b"\x09\x82\x05\xdc" + b"A" * 1500)
    assert (e.value.kind, e.value.code) == (dc.DATA_ACCESS, xdlms.TYPE_UNMATCHED)
    assert await c.release()
    # the wrong password: the AARE's diagnostic
    with pytest.raises(DlmsError) as e:
        await c.associate(READER, b"WRONG")
    assert (e.value.kind, e.value.code, e.value.source) == (dc.ASSOCIATION, acse.DIAG_AUTHENTICATION_FAILURE, acse.SOURCE_USER)
    assert e.value.result == acse.REJECTED_PERMANENT and not c.associated
    # no password for a client that needs one
    with pytest.raises(DlmsError) as e:
        await c.associate(READER)
    assert (e.value.kind, e.value.code) == (dc.ASSOCIATION, acse.DIAG_AUTHENTICATION_MECHANISM_NAME_REQUIRED)
    # an unknown client SAP
    with pytest.raises(DlmsError) as e:
        await c.associate(0x55)
    assert e.value.kind == dc.ASSOCIATION
    # a GET outside an association: exception-response
    with pytest.raises(DlmsError) as e:
        await c.get(3, REG, 2)
    assert (e.value.kind, e.value.code, e.value.source) == (dc.EXCEPTION, xdlms.OPERATION_NOT_POSSIBLE, xdlms.SERVICE_NOT_ALLOWED)


@pytest.mark.parametrize("max_info", [32, 128])
def test_services_over_hdlc(max_info):
    c, meter, uart, rig = hdlc_client(max_info=max_info)
    run(_services(c, rig))
    assert meter.link.connected  # a refused association leaves the link up
    assert run(c.release()) is False  # no association: no RLRQ, only the DISC
    assert not meter.link.connected
    assert c.t.timeouts == 0 and c.t.link.retransmits == 0
    assert ("auth-failure", READER) in rig.events


def test_services_over_the_tcp_wrapper():
    rig = Rig()

    async def main():
        c, task = await tcp_client(rig)
        await _services(c, rig)
        await c.t.s.close()
        await asyncio.wait_for(task, 1)

    run(main())


def test_small_pdu_block_transfer_and_with_list_in_blocks():
    async def main(c):
        await c.associate(PUBLIC, max_pdu=64)
        raw = bytes(await c.get(15, ASSOC, 2))
        await c.associate(PUBLIC, max_pdu=1024)
        assert bytes(await c.get(15, ASSOC, 2)) == raw  # the same list, in 64-byte blocks and in 1024-byte ones
        await c.associate(PUBLIC, max_pdu=64)
        items = [(3, REG, 2), (3, REG, 3), (3, VOLT, 2), (3, VOLT, 3), (1, LDN, 2), (8, CLOCK, 2), (15, ASSOC, 1)]
        r = await c.get_list(items)
        assert len(r) == 7 and bytes(r[0]) == h("06 00 01 E2 40") and bytes(r[6]) == h("09 06") + ASSOC
        await c.release()

    c, meter, uart, rig = hdlc_client(max_info=32, max_pdu=1024)
    run(main(c))
    # the object list through a data buffer too small for it
    c, meter, uart, rig = hdlc_client(max_data=300)

    async def small(c):
        await c.associate(PUBLIC, max_pdu=64)
        with pytest.raises(DlmsError) as e:
            await c.get(15, ASSOC, 2)
        assert e.value.kind == dc.TOO_LONG
        assert bytes(await c.get(3, REG, 2)) == h("06 00 01 E2 40")  # and the association goes on

    run(small(c))


def test_hdlc_addressing_and_physical_address():
    rig = Rig()
    meter = Meter(rig, physical=17)
    uart = Uart(meter)
    c = DlmsClient(HdlcTransport(uart, logical=1, physical=17, frame_timeout_ms=100, retries=1))

    async def main():
        await c.associate(PUBLIC)
        assert bytes(await c.get(3, REG, 2)) == h("06 00 01 E2 40")
        await c.release()
        # a client addressing physical 18: nobody answers
        c2 = DlmsClient(HdlcTransport(uart, logical=1, physical=18, frame_timeout_ms=50, retries=1))
        with pytest.raises(DlmsError) as e:
            await c2.associate(PUBLIC)
        assert e.value.kind == dc.TIMEOUT

    run(main())
    assert uart.writes[0] == h("7E A0 08 02 23 21 93 BD 64 7E")  # SNRM to logical 1 / physical 17


# ---- peers that misbehave ----


def test_silent_peer_times_out_with_retries_in_bounded_time():
    clock.init(RealTicks(), Rtc(NOW))
    uart = Uart(None)
    c = DlmsClient(HdlcTransport(uart, frame_timeout_ms=60, retries=2), timeout_ms=5000)

    async def main():
        t0 = time.monotonic()
        with pytest.raises(DlmsError) as e:
            await c.associate(PUBLIC)
        assert e.value.kind == dc.TIMEOUT
        return time.monotonic() - t0

    dt = run(main())
    assert len(uart.writes) == 3 and len(set(uart.writes)) == 1  # SNRM and two repeats
    assert 0.15 < dt < 1.0


def test_peer_going_silent_mid_session():
    quiet = [False]
    c, meter, uart, rig = hdlc_client(frame_timeout_ms=60, retries=2, timeout_ms=2000)
    inner = uart.peer
    uart.peer = lambda d: [] if quiet[0] else inner(d)

    async def main():
        await c.associate(PUBLIC)
        quiet[0] = True
        t0 = time.monotonic()
        n = len(uart.writes)
        with pytest.raises(DlmsError) as e:
            await c.get(3, REG, 2)
        assert e.value.kind == dc.TIMEOUT
        assert len(uart.writes) - n == 3 and len(set(uart.writes[n:])) == 1
        assert time.monotonic() - t0 < 1.0
        # the overall time-out bounds it even with many retries
        c.t.retries = 1000
        c.timeout_ms = 300
        t0 = time.monotonic()
        with pytest.raises(DlmsError):
            await c.get(3, REG, 2)
        assert 0.25 < time.monotonic() - t0 < 1.0
        # the meter talks again: a new association over a new link
        quiet[0] = False
        await c.associate(PUBLIC)
        assert bytes(await c.get(3, REG, 2)) == h("06 00 01 E2 40")

    run(main())


def test_lossy_peer_recovered_by_link_retries():
    # Every 3rd frame of the meter's is lost: the client's repeats recover each loss,
    # and no request is carried out twice.
    c, meter, uart, rig = hdlc_client(max_info=128, fault=lambda k, f: "drop" if k % 3 == 0 else None,
                                      frame_timeout_ms=20, retries=3)

    async def main():
        await c.associate(READER, "HELLO")
        raw = bytes(await c.get(15, ASSOC, 2))
        assert len(value(raw)[1]) > 20
        await c.action(8, CLOCK, 6, h("10 00 3C"))
        await c.release()

    run(main())
    assert c.t.link.retransmits > 10
    assert rig.rtc.secs == NOW + 60  # shifted once, not once per repeat


def test_garbage_peer():
    # A line full of noise: no frame, the time-out bounds it.
    clock.init(RealTicks(), Rtc(NOW))
    uart = Uart(None, junk=bytes(range(0x70, 0x90)) * 4)
    c = DlmsClient(HdlcTransport(uart, frame_timeout_ms=50, retries=2))

    async def noise():
        t0 = time.monotonic()
        with pytest.raises(DlmsError) as e:
            await c.associate(PUBLIC)
        assert e.value.kind == dc.TIMEOUT
        assert time.monotonic() - t0 < 1.0

    run(noise())
    assert c.t.deframer.dropped_bytes > 100
    # noise around the good frames: still served
    c, meter, uart, rig = hdlc_client()
    inner = uart.peer
    uart.peer = lambda d: [b"\x7e\x00garbage\x7e\xa0\x07"] + inner(d) + [b"\x01\x02\x7e"]

    async def wrapped():
        await c.associate(PUBLIC)
        assert bytes(await c.get(3, REG, 2)) == h("06 00 01 E2 40")

    run(wrapped())


class ScriptedStream:
    """A TCP peer that answers each write with the next scripted bytes (or nothing)."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.rx = bytearray()
        self.ev = asyncio.Event()

    async def write(self, data):
        if self.replies:
            self.rx += self.replies.pop(0)
            self.ev.set()

    async def readinto(self, buf):
        while not self.rx:
            self.ev.clear()
            await self.ev.wait()
        n = min(len(buf), len(self.rx))
        buf[:n] = self.rx[:n]
        del self.rx[:n]
        return n


def wpdu(apdu, src=1, dst=0x10):
    return bytes((0, 1, 0, src, 0, dst)) + len(apdu).to_bytes(2, "big") + apdu


AARE_OK = h("61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00 A3 05 A1 03 02 01 00 BE 10 04 0E 08 00 06 5F 1F 04 00 00 1A 1D 04 00 00 07")


def test_tcp_peer_garbage_and_stale_replies():
    clock.init(RealTicks(), Rtc(NOW))

    async def main():
        # a stale reply (another invoke-id) and a WPDU for another wPort are skipped
        s = ScriptedStream([wpdu(AARE_OK), wpdu(h("C4 01 C5 00 11 07")) + wpdu(h("C4 01 C1 00 11 09"), src=2)
                            + wpdu(h("C4 01 C1 00 11 05"))])
        c = DlmsClient(WrapperTransport(s))
        await c.associate(PUBLIC)
        assert bytes(await c.get(3, REG, 2)) == h("11 05")
        # a bad wrapper version: the stream lost its framing
        s = ScriptedStream([wpdu(AARE_OK), b"\x00\x02" + wpdu(b"\xC4")[2:]])
        c = DlmsClient(WrapperTransport(s))
        await c.associate(PUBLIC)
        with pytest.raises(DlmsError) as e:
            await c.get(3, REG, 2)
        assert e.value.kind == dc.PROTOCOL
        # APDUs that are not what was asked for
        for junk in (h("C4 01 C1"), h("61 03 02 01 00"), b"", h("D8 01"), h("C4 01 C1 00 11")):
            s = ScriptedStream([wpdu(AARE_OK), wpdu(junk)])
            c = DlmsClient(WrapperTransport(s), timeout_ms=300)
            await c.associate(PUBLIC)
            with pytest.raises(DlmsError) as e:
                await c.get(3, REG, 2)
            assert e.value.kind == dc.PROTOCOL, junk.hex()
        # a well-formed reply to another service is not the answer: waited past, then the time-out
        s = ScriptedStream([wpdu(AARE_OK), wpdu(h("C5 01 C1 00"))])
        c = DlmsClient(WrapperTransport(s), timeout_ms=200)
        await c.associate(PUBLIC)
        with pytest.raises(DlmsError) as e:
            await c.get(3, REG, 2)
        assert e.value.kind == dc.TIMEOUT
        # garbage instead of an AARE
        s = ScriptedStream([wpdu(h("61 05 01 02 03 04 05"))])
        with pytest.raises(DlmsError) as e:
            await DlmsClient(WrapperTransport(s)).associate(PUBLIC)
        assert e.value.kind == dc.PROTOCOL
        # an AARE refusing with an initiate error
        rej = h("61 1F A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 01 A3 05 A1 03 02 01 01 BE 06 04 04 0E 01 06 01")
        s = ScriptedStream([wpdu(rej)])
        with pytest.raises(DlmsError) as e:
            await DlmsClient(WrapperTransport(s)).associate(PUBLIC)
        assert (e.value.kind, e.value.code) == (dc.INITIATE, 1)  # dlms-version-too-low
        # silence, then the peer closes
        s = ScriptedStream([wpdu(AARE_OK)])
        c = DlmsClient(WrapperTransport(s), timeout_ms=100)
        await c.associate(PUBLIC)
        with pytest.raises(DlmsError) as e:
            await c.get(3, REG, 2)
        assert e.value.kind == dc.TIMEOUT

    run(main())


def test_hdlc_frmr_and_dm_from_the_meter_are_link_errors():
    clock.init(RealTicks(), Rtc(NOW))
    buf = bytearray(32)
    dm = bytes(buf[: hdlc.encode_dm(buf, 0x10, 1)])
    uart = Uart(lambda d: [dm])
    c = DlmsClient(HdlcTransport(uart, frame_timeout_ms=50, retries=1))

    async def main():
        with pytest.raises(DlmsError) as e:
            await c.associate(PUBLIC)
        assert e.value.kind == dc.LINK

    run(main())


def test_meter_dropping_the_link_ends_the_association():
    # The meter's inactivity time-out resets its link: our next I-frame gets DM.
    c, meter, uart, rig = hdlc_client(frame_timeout_ms=50, retries=1)

    async def main():
        await c.associate(PUBLIC)
        meter.link.reset()
        with pytest.raises(DlmsError) as e:
            await c.get(3, REG, 2)
        assert e.value.kind == dc.LINK and not c.associated
        await c.associate(PUBLIC)  # a new SNRM and AARQ
        assert bytes(await c.get(3, REG, 2)) == h("06 00 01 E2 40")

    run(main())
