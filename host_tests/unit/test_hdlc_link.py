"""HDLC connection state machines (firmware/dlms/hdlc_link.py, hdlc_client.py): the spec/dlms-byte-examples.md 4.3
vectors through both roles, our client against our server with segmentation and lost frames, gurux-dlms and
dlms-cosem as HDLC clients of our server with the firmware's DLMS server behind it, and fuzzing (IEC 62056-46 6.4)."""
import logging
import os
import random

import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from dlms_rig import ASSOC, CLOCK, LDN, PUBLIC, READER, REG, Rig, ln
from firmware.dlms import acse, hdlc, initiate
from firmware.dlms import hdlc_link as hl
from firmware.dlms.hdlc_client import HdlcClient
from firmware.dlms.server import Session

FUZZ = settings(derandomize=True, max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")), deadline=None)


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


@pytest.fixture(autouse=True, scope="module")
def _quiet_dlms_cosem():
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    yield
    structlog.reset_defaults()


# ---- spec/dlms-byte-examples.md 4.3 ----
SNRM = h("7E A0 07 03 21 93 0F 01 7E")
SNRM_2B = h("7E A0 08 02 23 21 93 BD 64 7E")
SNRM_PARAMS = h("7E A0 14 03 21 93 63 E7 81 80 08 05 02 01 00 06 02 01 00 56 96 7E")
UA = h("7E A0 07 21 03 73 01 40 7E")
UA_PARAMS = h("7E A0 20 21 03 73 73 98 81 80 14 05 02 00 80 06 02 00 80 07 04 00 00 00 01 08 04 00 00 00 01 CE 6A 7E")
UA_METER = h("7E A0 1F 21 02 23 73 E6 C7 81 80 12 05 01 9A 06 01 9A 07 04 00 00 00 01 08 04 00 00 00 01 CC A2 7E")
UA_ISSUE = h("7E A0 21 05 02 21 73 80 BC 81 80 14 05 02 01 00 06 02 01 00 07 04 00 00 00 01 08 04 00 00 00 01 69 6D 7E")
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
I_AARE_REJECTED = h(
    "7E A0 26 21 02 01 30 4F 22 E6 E7 00 61 17 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 01 A3 05 A1 03 02 01 0D"
    " AE 4F 7E"
)
GET_CLOCK = h("C0 01 C1 00 08 00 00 01 00 00 FF 02 00")
AARQ = I_AARQ[12:-3]
AARE = I_AARE[12:-3]


def frames(data):
    """The frames in data, each decoded into its own Frame (views of a private copy)."""
    d = hdlc.Deframer(2049)
    out = []
    for f in d.feed(bytes(data)):
        out.append(hdlc.decode(bytes(f.raw)))
    assert not d.dropped_frames, data.hex()
    return out


def one(data):
    fs = frames(data)
    assert len(fs) == 1
    return fs[0]


def test_server_vectors_snrm_ua_disc():
    s = hl.HdlcServer()
    assert s.receive(one(SNRM)) == hl.CONNECTED and s.connected and s.client == 0x10
    # our UA always states the four values; 128 takes one byte here
    f = one(s.out)
    assert (f.kind, f.dst, f.src) == (hdlc.UA, 0x10, 1)
    assert hdlc.parse_params(f.info) == hdlc.parse_params(one(UA_PARAMS).info) == (128, 128, 1, 1)
    # DISC: UA without parameters, byte for byte dlms-cosem's vector
    assert s.receive(one(DISC)) == hl.DISCONNECTED and bytes(s.out) == UA and not s.connected
    # DISC when disconnected: DM
    assert s.receive(one(DISC)) == hl.SEND
    f = one(s.out)
    assert f.kind == hdlc.DM and f.pf
    # the SNRM with parameters (256/256) against a server limited to 0x9A, addressed as logical 1 / physical 17:
    # the UA is the real meter's, byte for byte
    s = hl.HdlcServer(physical=17, max_info_tx=0x9A, max_info_rx=0x9A)
    snrm = bytearray(64)
    n = hdlc.encode_snrm(snrm, (1 << 7) | 17, 0x10, (256, 256, 1, 1), 2, 1)
    assert s.receive(one(snrm[:n])) == hl.CONNECTED
    assert bytes(s.out) == UA_METER
    assert (s.max_info_tx, s.max_info_rx, s.window_tx, s.window_rx) == (0x9A, 0x9A, 1, 1)
    # and the UA quoted in Gurux's issue: client 2, logical 1 / physical 16, 256/256
    s = hl.HdlcServer(physical=16, max_info_tx=256, max_info_rx=256)
    n = hdlc.encode_snrm(snrm, (1 << 7) | 16, 2, (256, 256, 1, 1), 2, 1)
    assert s.receive(one(snrm[:n])) == hl.CONNECTED and bytes(s.out) == UA_ISSUE
    # Gurux's SNRM with parameters, to a 1-byte-addressed server that can do 256
    s = hl.HdlcServer(max_info_tx=512, max_info_rx=512)
    assert s.receive(one(SNRM_PARAMS)) == hl.CONNECTED
    assert (s.max_info_tx, s.max_info_rx) == (256, 256)


def test_server_vectors_i_frames():
    # The AARQ I-frame of dlms-cosem (logical 1 / physical 17) in, the AARE I-frame of 4.3 out, byte for byte.
    s = hl.HdlcServer(physical=17)
    assert s.receive(one(SNRM_2B)) == hl.CONNECTED
    assert s.receive(one(I_AARQ)) == hl.APDU and bytes(s.apdu) == AARQ
    s.reply_buffer()[: len(AARE)] = AARE
    assert bytes(s.reply(len(AARE))) == I_AARE
    # the 1-byte-addressed GET I-frame, N(S)=0 after a fresh SNRM
    s = hl.HdlcServer()
    s.receive(one(SNRM))
    assert s.receive(one(I_GET)) == hl.APDU and bytes(s.apdu) == GET_CLOCK


def test_client_vectors():
    c = HdlcClient(0x10)
    assert bytes(c.connect()) == SNRM
    assert c.receive(one(UA)) == hl.CONNECTED and (c.max_info_tx, c.max_info_rx) == (128, 128)
    assert bytes(c.send(GET_CLOCK)) == I_GET
    assert bytes(c.disconnect()) == DISC
    assert c.receive(one(UA)) == hl.DISCONNECTED and c.state == hl.NDM
    # proposing 256/256 is Gurux's SNRM, byte for byte
    c = HdlcClient(0x10, max_info_tx=256, max_info_rx=256)
    assert bytes(c.connect()) == SNRM_PARAMS
    assert c.receive(one(UA_PARAMS)) == hl.CONNECTED and (c.max_info_tx, c.max_info_rx) == (128, 128)
    # the real meter's UA, the AARQ and AARE I-frames with the 2-byte server address
    c = HdlcClient(0x10, 1, 17)
    assert bytes(c.connect()) == SNRM_2B
    assert c.receive(one(UA_METER)) == hl.CONNECTED and (c.max_info_tx, c.max_info_rx) == (128, 128)  # ours is less
    c = HdlcClient(0x10, 1, 17, max_info_tx=256, max_info_rx=256)
    c.connect()
    assert c.receive(one(UA_METER)) == hl.CONNECTED and (c.max_info_tx, c.max_info_rx) == (0x9A, 0x9A)
    assert bytes(c.send(AARQ)) == I_AARQ
    assert c.receive(one(I_AARE)) == hl.APDU and bytes(c.apdu) == AARE
    # the L+G rejection (server logical 1 / physical 0)
    c = HdlcClient(0x10, 1, 0)
    c.connect()
    assert c.receive(_ua_from(c)) == hl.CONNECTED
    c.send(AARQ)
    assert c.receive(one(I_AARE_REJECTED)) == hl.APDU
    assert acse.decode_aare(bytes(c.apdu)).result_source_diagnostic == acse.DIAG_AUTHENTICATION_FAILURE
    # a DM to SNRM refuses the link; an FRMR breaks it
    c = HdlcClient(0x10)
    c.connect()
    buf = bytearray(32)
    assert c.receive(one(buf[: hdlc.encode_dm(buf, 0x10, 1)])) == hl.DISCONNECTED
    c.connect()
    c.receive(one(UA))
    c.send(GET_CLOCK)
    assert c.receive(one(buf[: hdlc.encode_frmr(buf, 0x10, 1, b"\x10\x00\x01")])) == hl.ERROR
    assert c.state == hl.NDM and c.frmr == b"\x10\x00\x01"


def _ua_from(c):
    # A UA from the server this client addresses (no parameters: the defaults).
    buf = bytearray(32)
    n = hdlc.encode_ua(buf, c._src, c._dst, None, 1, c._dst_len)
    return one(buf[:n])


# ---- our client against our server, in memory ----


class ServerEnd:
    """An HdlcServer and an application behind it: the firmware's DLMS server
    (rig) or a function of the request APDU; feed() returns the frames sent back."""

    def __init__(self, link, app=None, rig=None):
        self.link = link
        self.app = app
        self.rig = rig
        self.sess = Session(0x10)
        self.deframer = hdlc.Deframer(link.max_frame())
        self.requests = 0
        self.frames_out = []

    def feed(self, data):
        out = []
        for f in self.deframer.feed(bytes(data)):
            ev = self.link.receive(f)
            if ev in (hl.CONNECTED, hl.DISCONNECTED):
                self.sess = Session(self.link.client or 0)
            if ev == hl.APDU or ev == hl.TOO_LONG:
                self.requests += 1
                buf = self.link.reply_buffer()
                if ev == hl.TOO_LONG:
                    n = self.rig.server.too_long(self.sess, buf) if self.rig else 0
                elif self.rig:
                    n = self.rig.server.handle(self.sess, self.link.apdu, buf)
                else:
                    r = self.app(bytes(self.link.apdu))
                    buf[: len(r)] = r
                    n = len(r)
                o = self.link.reply(n)
                if o is not None:
                    out.append(bytes(o))
            elif self.link.out is not None:
                out.append(bytes(self.link.out))
        self.frames_out.extend(out)
        return out


def exchange(c, end, first, lose=None, limit=2000):
    """Drive client c from its frame `first` until an outcome; lose(direction, k) -> True drops the k-th frame."""
    out = bytes(first)
    k = 0
    for _ in range(limit):
        k += 1
        replies = [] if lose and lose("up", k) else end.feed(out)
        ev = hl.NONE
        for r in replies:
            k += 1
            if lose and lose("down", k):
                continue
            for f in frames(r):
                e = c.receive(f)
                if e != hl.NONE:
                    ev = e
        if ev == hl.SEND:
            out = bytes(c.out)
            continue
        if ev != hl.NONE:
            return ev
        # nothing usable came back: the client's time-out
        out = bytes(c.retransmit())
    raise AssertionError("no outcome")


def connect(cinfo=128, sinfo=128, app=None, rig=None, cwin=1, max_apdu=4096):
    s = hl.HdlcServer(max_info_tx=sinfo, max_info_rx=sinfo, max_apdu=max_apdu)
    end = ServerEnd(s, app or (lambda q: q[::-1]), rig)
    c = HdlcClient(0x10, max_info_tx=cinfo, max_info_rx=cinfo, window_rx=cwin, max_apdu=max_apdu)
    assert exchange(c, end, c.connect()) == hl.CONNECTED
    return c, s, end


def check_frames(raw_frames, max_info):
    # Every I-frame within the negotiated size; the S bit on all but the last of an APDU.
    for r in raw_frames:
        for f in frames(r):
            if f.kind == hdlc.I_FRAME:
                assert len(f.info) <= max_info


SIZES = [1, 2, 28, 29, 30, 31, 32, 60, 61, 125, 126, 127, 128, 250, 253, 254, 255, 256, 511, 1000, 2047, 3000]


@pytest.mark.parametrize("info", [32, 33, 64, 128, 200, 256])
def test_segmentation_both_ways(info):
    rnd = random.Random(info)
    c, s, end = connect(cinfo=info, sinfo=256)
    assert (c.max_info_tx, c.max_info_rx) == (info, info) == (s.max_info_rx, s.max_info_tx)
    sent = []
    c_frames = []
    for n in SIZES:
        q = bytes(rnd.getrandbits(8) for _ in range(n))
        first = bytes(c.send(q))
        c_frames.append(first)
        assert exchange(c, end, first) == hl.APDU
        assert bytes(c.apdu) == q[::-1]
        sent.append(q)
        # frames needed: ceil((n + 3) / info) each way
    check_frames(end.frames_out, info)
    assert end.requests == len(SIZES)
    assert c.retransmits == 0 and s.retransmits == 0 and c.seq_errors == 0 and s.seq_errors == 0


@FUZZ
@given(st.integers(1, 3000), st.integers(1, 3000), st.integers(32, 256), st.integers(32, 256))
def test_fuzz_segmentation_sizes(nq, nr, cinfo, sinfo):
    reply = bytes(range(256)) * 12
    c, s, end = connect(cinfo=cinfo, sinfo=sinfo, app=lambda q: reply[:nr])
    for _ in range(2):
        q = bytes((i * 7) & 0xFF for i in range(nq))
        assert exchange(c, end, c.send(q)) == hl.APDU
        assert bytes(c.apdu) == reply[:nr]
    check_frames(end.frames_out, min(cinfo, sinfo))
    up = (nq + 3 + min(cinfo, sinfo) - 1) // min(cinfo, sinfo)
    down = (nr + 3 + min(cinfo, sinfo) - 1) // min(cinfo, sinfo)
    # every frame of ours was answered by exactly one (I-frames or RRs), in window 1
    assert len(end.frames_out) == 1 + 2 * (up + down - 1)


def test_lost_frames_recovered_without_running_a_request_twice():
    # Lose each frame of a segmented exchange in turn (both directions): the client's
    # time-out retransmission recovers it and the server runs the request once.
    q = bytes(range(200))
    total = None
    for lost in range(1, 40):
        c, s, end = connect(cinfo=64, sinfo=64)
        drops = []

        def lose(direction, k, lost=lost):
            if k == lost:
                drops.append(direction)
                return True
            return False

        assert exchange(c, end, c.send(q), lose) == hl.APDU
        assert bytes(c.apdu) == q[::-1]
        assert end.requests == 1
        if not drops:
            total = lost
            break
        assert c.retransmits == 1
        # the link goes on in sequence afterwards
        assert exchange(c, end, c.send(b"\x01\x02")) == hl.APDU and bytes(c.apdu) == b"\x02\x01"
        assert end.requests == 2
    assert total and total > 10


def test_client_receive_window_above_one():
    # A server that sends several I-frames per poll (window 3): the client collects
    # them and answers only the one with F set.
    c = HdlcClient(0x10, window_rx=3, max_info_rx=32, max_info_tx=32)
    c.connect()
    buf = bytearray(64)
    n = hdlc.encode_ua(buf, 0x10, 1, (32, 32, 3, 1))
    assert c.receive(one(buf[:n])) == hl.CONNECTED and c.window_rx == 3
    c.send(b"\xC0\x01")
    data = hdlc.LLC_RESPONSE + bytes(range(100))
    segs = [data[i : i + 32] for i in range(0, len(data), 32)]
    evs = []
    for i, seg in enumerate(segs):
        last = i == len(segs) - 1
        pf = last or i % 3 == 2
        n = hdlc.encode_i(buf, 0x10, 1, i & 7, 1, seg, pf, not last)
        evs.append(c.receive(one(buf[:n])))
    assert evs == [hl.NONE, hl.NONE, hl.SEND, hl.APDU]
    assert bytes(c.apdu) == bytes(range(100))


def test_server_sequence_errors_and_frame_reject():
    s = hl.HdlcServer()
    buf = bytearray(300)

    def i(ns, nr, info=hdlc.LLC_REQUEST + b"\xC0", pf=True, seg=False):
        return one(buf[: hdlc.encode_i(buf, 1, 0x10, ns, nr, info, pf, seg)])

    def rr(nr, pf=True):
        return one(buf[: hdlc.encode_rr(buf, 1, 0x10, nr, pf)])

    s.receive(one(SNRM))
    # an I-frame with N(S)=7 right after SNRM: not a repeat; RR N(R)=0 says what is expected
    assert s.receive(i(7, 0)) == hl.SEND
    f = one(s.out)
    assert (f.kind, f.nr) == (hdlc.RR, 0) and s.seq_errors == 1
    assert s.receive(i(0, 0)) == hl.APDU
    first = bytes(_reply(s, b"\xC4\x01"))
    # the request again (our answer lost): the same I-frame again, nothing reaches the application
    assert s.receive(i(0, 0)) == hl.SEND and bytes(s.out) == first and s.retransmits == 1
    # a poll that does not acknowledge it: the same again
    assert s.receive(rr(0)) == hl.SEND and bytes(s.out) == first
    # acknowledged: nothing more to send, RR
    assert s.receive(rr(1)) == hl.SEND and one(s.out).kind == hdlc.RR
    # an N(S) out of sequence is dropped, answered with RR N(R)=1
    assert s.receive(i(3, 1)) == hl.SEND and one(s.out).nr == 1
    # no poll, no answer
    assert s.receive(i(3, 1, pf=False)) == hl.NONE
    # an N(R) that acknowledges a frame never sent: FRMR, repeated until SNRM
    assert s.receive(i(1, 5)) == hl.SEND
    f = one(s.out)
    assert f.kind == hdlc.FRMR and bytes(f.info) == bytes((0x10 | 5 << 5 | 1 << 1, 1 << 5 | 1 << 1, hl.FRMR_Z))
    assert s.state == hl.REJECTED
    assert s.receive(rr(1)) == hl.SEND and one(s.out).kind == hdlc.FRMR
    assert s.receive(i(1, 1)) == hl.SEND and one(s.out).kind == hdlc.FRMR
    assert s.receive(one(SNRM)) == hl.CONNECTED and s.state == hl.NRM
    # an unknown command and an information field too long: FRMR W and Y
    assert s.receive(one(buf[: hdlc.encode_frame(buf, 1, 0x10, 0x09 | 0x10)])) == hl.SEND  # REJ
    assert bytes(one(s.out).info)[2] == hl.FRMR_W
    s.receive(one(SNRM))
    assert s.receive(i(0, 0, b"\xE6\xE6\x00" + bytes(200))) == hl.SEND
    assert bytes(one(s.out).info)[2] == hl.FRMR_Y
    s.receive(one(DISC))
    # disconnected: DM to a poll, nothing to a frame without one
    assert s.receive(i(0, 0)) == hl.SEND and one(s.out).kind == hdlc.DM
    assert s.receive(i(0, 0, pf=False)) == hl.NONE


def _reply(s, apdu):
    s.reply_buffer()[: len(apdu)] = apdu
    return s.reply(len(apdu))


def test_server_addresses():
    buf = bytearray(64)
    s = hl.HdlcServer(logical=1, physical=17)
    for dst, n in (((1 << 7) | 18, 2), ((2 << 7) | 17, 2), ((1 << 14) | 18, 4), (0x7F, 1)):
        assert s.receive(one(buf[: hdlc.encode_snrm(buf, dst, 0x10, None, n, 1)])) == hl.NONE
    assert s.ignored == 4 and not s.connected
    # 1-byte (upper only), 2-byte and 4-byte forms all reach it; the UA answers in the form used
    for dst, n in ((1, 1), ((1 << 7) | 17, 2), ((1 << 14) | 17, 4)):
        assert s.receive(one(buf[: hdlc.encode_snrm(buf, dst, 0x20, None, n, 1)])) == hl.CONNECTED
        f = one(s.out)
        assert (f.dst, f.src, f.src_len) == (0x20, dst, n)
    # another client while 0x20 is connected: no answer; its SNRM takes the link over
    assert s.receive(one(buf[: hdlc.encode_rr(buf, 1, 0x10, 0)])) == hl.NONE
    assert s.receive(one(buf[: hdlc.encode_snrm(buf, 1, 0x10, None)])) == hl.CONNECTED and s.client == 0x10
    # a client address of 2 bytes is not a client
    assert s.receive(one(buf[: hdlc.encode_snrm(buf, 1, 0x10, None, 1, 2)])) == hl.NONE
    # SNRM parameters below the class 23 minimum: DM
    assert s.receive(one(buf[: hdlc.encode_snrm(buf, 1, 0x10, (16, 128, 1, 1))])) == hl.SEND
    assert one(s.out).kind == hdlc.DM and not s.connected


def test_request_longer_than_the_server_takes():
    # The server's buffer holds 1024; a 2003-byte request is taken in (RR by RR), dropped,
    # and answered by the DLMS server's pdu-too-long.
    end = ServerEnd(hl.HdlcServer(max_info_tx=64, max_info_rx=64, max_apdu=1024), rig=Rig())
    c = HdlcClient(0x10, max_info_tx=64, max_info_rx=64, max_apdu=4096)
    assert exchange(c, end, c.connect()) == hl.CONNECTED
    assert exchange(c, end, c.send(b"\xC0\x01\xC1" + bytes(2000))) == hl.APDU
    assert bytes(c.apdu) == h("D8 01 04")  # exception-response: service-not-allowed, pdu-too-long
    assert exchange(c, end, c.send(b"\xC0")) == hl.APDU  # and the link goes on


# ---- the firmware's DLMS server behind our HDLC server, our client in front ----


def aarq(client_pdu=1024, password=None):
    a = acse.Aarq(user_information=initiate.InitiateRequest(proposed_conformance=0x1A1D, client_max_receive_pdu_size=client_pdu))
    if password is not None:
        a.sender_acse_requirements = True
        a.mechanism_name = acse.MECHANISM_LOW
        a.calling_authentication_value = password
    b = bytearray(128)
    return bytes(b[: a.encode(b, 0)])


def test_dlms_server_behind_hdlc_server():
    rig = Rig()
    c, s, end = connect(cinfo=48, sinfo=128, rig=rig, max_apdu=1024)
    assert exchange(c, end, c.send(aarq())) == hl.APDU
    assert acse.decode_aare(bytes(c.apdu)).result == acse.ACCEPTED
    assert exchange(c, end, c.send(h("C0 01 C1 00 03 01 00 01 08 00 FF 02 00"))) == hl.APDU
    assert bytes(c.apdu) == h("C4 01 C1 00 06 00 01 E2 40")
    # the object list: 1024-byte blocks, each cut into 48-byte segments
    assert exchange(c, end, c.send(h("C0 01 C1 00 0F 00 00 28 00 00 FF 02 00"))) == hl.APDU
    assert bytes(c.apdu[:3]) == h("C4 02 C1") and len(c.apdu) == 1024
    check_frames(end.frames_out, 48)
    # DISC drops the association with the link
    assert exchange(c, end, c.disconnect()) == hl.DISCONNECTED
    assert exchange(c, end, c.connect()) == hl.CONNECTED
    assert exchange(c, end, c.send(h("C0 01 C1 00 03 01 00 01 08 00 FF 02 00"))) == hl.APDU
    assert bytes(c.apdu) == h("D8 01 01")  # not associated any more


# ---- real clients: gurux-dlms over HDLC ----


class Gurux:
    """GXDLMSClient in HDLC mode, wired to a ServerEnd in memory."""

    def __init__(self, end, client=PUBLIC, password=None, max_info=None, server=1):
        from gurux_dlms import GXDLMSClient
        from gurux_dlms.enums import Authentication, InterfaceType

        auth = Authentication.LOW if password is not None else Authentication.NONE
        self.c = GXDLMSClient(True, client, server, auth, password, InterfaceType.HDLC)
        if max_info:
            self.c.hdlcSettings.maxInfoTX = max_info
            self.c.hdlcSettings.maxInfoRX = max_info
        self.end = end
        self.frames = 0

    def packet(self, data, reply):
        from gurux_dlms import GXByteBuffer, GXReplyData

        notify = GXReplyData()
        self.frames += 1
        out = self.end.feed(bytes(data))
        rd = GXByteBuffer()
        rd.set(b"".join(out))
        assert self.c.getData(rd, reply, notify), (bytes(data).hex(), b"".join(out).hex())

    def block(self, data, reply):
        if isinstance(data, list):
            for it in data:
                reply.clear()
                self.block(it, reply)
            return
        self.packet(data, reply)
        while reply.isMoreData():
            self.packet(self.c.receiverReady(reply), reply)

    def reply(self):
        from gurux_dlms import GXReplyData

        return GXReplyData()

    def connect(self):
        r = self.reply()
        self.packet(self.c.snrmRequest(), r)
        self.c.parseUAResponse(r.data)
        r = self.reply()
        self.block(self.c.aarqRequest(), r)
        self.c.parseAareResponse(r.data)

    def read(self, obj, attr):
        r = self.reply()
        self.block(self.c.read(obj, attr), r)
        return self.c.updateValue(obj, attr, r.value)

    def close(self):
        r = self.reply()
        self.block(self.c.releaseRequest(), r)
        r = self.reply()
        self.packet(self.c.disconnectRequest(), r)


@pytest.mark.parametrize("max_info", [None, 32, 64, 256])
def test_gurux_hdlc_client_reads_our_server(max_info):
    from gurux_dlms.objects import GXDLMSClock, GXDLMSData, GXDLMSRegister

    rig = Rig()
    end = ServerEnd(hl.HdlcServer(max_info_tx=256, max_info_rx=256, max_apdu=1024), rig=rig)
    g = Gurux(end, max_info=max_info)
    g.connect()
    s = end.link
    want = max_info or 128
    assert (s.max_info_tx, s.max_info_rx) == (want, want)
    reg = GXDLMSRegister("1.0.1.8.0.255")
    g.read(reg, 3)
    assert g.read(reg, 2) == 123456 and reg.scaler == 1 and int(reg.unit) == 30  # Wh
    assert str(g.read(GXDLMSData("0.0.42.0.0.255"), 2))
    g.read(GXDLMSClock("0.0.1.0.0.255"), 2)
    # the object list: block transfer inside, HDLC segmentation below
    r = g.reply()
    g.block(g.c.getObjectsRequest(), r)
    objs = g.c.parseObjects(r.data, True, False)
    assert len(objs) > 20
    check_frames(end.frames_out, want)
    assert s.seq_errors == 0 and s.retransmits == 0
    g.close()
    assert not s.connected


def test_gurux_hdlc_low_password_and_wrong_password():
    from gurux_dlms.objects import GXDLMSData

    rig = Rig()
    end = ServerEnd(hl.HdlcServer(max_apdu=1024), rig=rig)
    g = Gurux(end, client=READER, password="HELLO", max_info=64)
    g.connect()
    assert g.read(GXDLMSData("0.1.96.1.1.255"), 2) is not None
    g.close()
    g = Gurux(end, client=READER, password="WRONG")
    with pytest.raises(Exception):
        g.connect()
    assert ("auth-failure", READER) in rig.events


def test_gurux_frames_to_another_server_get_no_answer():
    rig = Rig()
    end = ServerEnd(hl.HdlcServer(max_apdu=1024), rig=rig)
    g = Gurux(end, server=2)
    assert end.feed(bytes(g.c.snrmRequest())) == []
    assert end.link.ignored == 1


# ---- real clients: dlms-cosem's HDLC transport ----


class MemoryIO:
    """dlms-cosem's IoImplementation, answered by a ServerEnd."""

    def __init__(self, end):
        self.end = end
        self.rx = bytearray()

    def connect(self):
        pass

    def disconnect(self):
        pass

    def send(self, data):
        for r in self.end.feed(bytes(data)):
            self.rx += r

    def recv(self, amount=1):
        assert len(self.rx) >= amount, "dlms-cosem waits for bytes the server never sent"
        d = bytes(self.rx[:amount])
        del self.rx[:amount]
        return d

    def recv_until(self, end):
        i = self.rx.index(end[0])
        d = bytes(self.rx[: i + 1])
        del self.rx[: i + 1]
        return d


def dlms_cosem_client(end, client=PUBLIC, password=None, segment=None):
    from dlms_cosem.client import DlmsClient
    from dlms_cosem.io import HdlcTransport
    from dlms_cosem.security import LowLevelSecurityAuthentication, NoSecurityAuthentication

    tr = HdlcTransport(client_logical_address=client, server_logical_address=1, io=MemoryIO(end))
    if segment:
        tr.hdlc_connection.max_data_size = segment
    auth = LowLevelSecurityAuthentication(secret=password) if password else NoSecurityAuthentication()
    return DlmsClient(transport=tr, authentication=auth, block_transfer=True, max_pdu_size=512)


@pytest.mark.parametrize("segment", [None, 40])
def test_dlms_cosem_hdlc_client_reads_our_server(segment):
    from dlms_cosem import cosem, enumerations

    def attr(interface, obis, a):
        return cosem.CosemAttribute(interface=enumerations.CosemInterface(interface), instance=cosem.Obis(*obis), attribute=a)

    rig = Rig()
    end = ServerEnd(hl.HdlcServer(max_apdu=1024), rig=rig)
    d = dlms_cosem_client(end, READER, b"HELLO", segment)
    with d.session():
        assert d.get(attr(3, REG, 2)) == h("06 00 01 E2 40")
        assert d.get(attr(8, CLOCK, 2))[:2] == h("09 0C")
        raw = d.get(attr(15, ASSOC, 2))  # 512-byte blocks, 128-byte segments
        assert raw[:1] == b"\x01" and len(raw) > 1000
        assert d.get(attr(1, LDN, 2))[:1] == b"\x09"
    assert not end.link.connected
    assert end.link.seq_errors == 0 and end.link.retransmits == 0


# ---- fuzzing: the state machines never raise ----

_frame_st = st.tuples(
    st.sampled_from([1, 2, 0x7F, (1 << 7) | 17]),  # dst
    st.sampled_from([1, 1, 2]),  # dst_len (2 only with a 2-byte dst)
    st.sampled_from([0x10, 0x20, 0x7F]),  # src
    st.integers(0, 255),  # control
    st.one_of(st.none(), st.binary(max_size=300)),
    st.booleans(),
)


def _encode(t):
    dst, dl, src, control, info, seg = t
    if dst > 0x7F:
        dl = 2
    buf = bytearray(400)
    return bytes(buf[: hdlc.encode_frame(buf, dst, src, control, info or None, seg, dl, 1)])


@FUZZ
@given(st.lists(_frame_st, max_size=30))
def test_fuzz_server_random_frames_never_raise(ts):
    rig = Rig()
    end = ServerEnd(hl.HdlcServer(max_apdu=1024), rig=rig)
    end.feed(SNRM)
    for t in ts:
        out = end.feed(_encode(t))
        assert len(out) <= 1
        for r in out:
            f = one(r)
            assert f.dst in (0x10, 0x20, 0x7F)
            if f.kind == hdlc.I_FRAME:
                assert len(f.info) <= end.link.max_info_tx
    # whatever happened, SNRM brings it back and a request is served
    c = HdlcClient(0x10)
    assert exchange(c, end, c.connect()) == hl.CONNECTED
    assert exchange(c, end, c.send(aarq())) == hl.APDU
    assert acse.decode_aare(bytes(c.apdu)).result == acse.ACCEPTED


@FUZZ
@given(st.lists(_frame_st, max_size=30), st.binary(max_size=200))
def test_fuzz_client_random_frames_and_garbage_never_raise(ts, junk):
    c = HdlcClient(0x10, max_apdu=512)
    d = hdlc.Deframer(c.max_frame())
    c.connect()
    c.receive(one(UA))
    c.send(GET_CLOCK)
    for t in ts:
        raw = _encode(t)
        c.receive(one(raw))  # as sent: mostly not addressed to us
        # the same frame as if it came from the server to us
        f = hdlc.decode(raw)
        f.src, f.src_len, f.dst, f.dst_len = 1, 1, 0x10, 1
        ev = c.receive(f)
        assert ev in (hl.NONE, hl.SEND, hl.APDU, hl.DISCONNECTED, hl.ERROR)
        if ev == hl.SEND:
            one(c.out)
        if c.state != hl.NRM:
            c.connect()
            c.receive(one(UA))
            c.send(GET_CLOCK)
    for f in d.feed(junk):
        c.receive(f)
    c.retransmit()


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7), st.booleans(), st.booleans(), st.sampled_from(["I", "RR", "RNR"]))))
def test_fuzz_server_wrong_sequence_numbers(seq):
    # Any mix of N(S)/N(R)/P/S: only standard answers come back (RR, I, FRMR), and SNRM recovers.
    end = ServerEnd(hl.HdlcServer(max_info_tx=32, max_info_rx=32), app=lambda q: q * 20)
    end.feed(SNRM)
    buf = bytearray(64)
    for ns, nr, pf, seg, kind in seq:
        if kind == "I":
            n = hdlc.encode_i(buf, 1, 0x10, ns, nr, hdlc.LLC_REQUEST + b"\x01\x02", pf, seg)
        elif kind == "RR":
            n = hdlc.encode_rr(buf, 1, 0x10, nr, pf)
        else:
            n = hdlc.encode_rnr(buf, 1, 0x10, nr, pf)
        for r in end.feed(buf[:n]):
            assert one(r).kind in (hdlc.RR, hdlc.I_FRAME, hdlc.FRMR)
    c = HdlcClient(0x10, max_info_tx=32, max_info_rx=32)
    assert exchange(c, end, c.connect()) == hl.CONNECTED
    assert exchange(c, end, c.send(b"\x05")) == hl.APDU and bytes(c.apdu) == b"\x05" * 20


@FUZZ
@given(st.binary(max_size=600), st.integers(1, 64))
def test_fuzz_server_garbage_bytes_never_raise(data, chunk):
    end = ServerEnd(hl.HdlcServer(max_apdu=1024), rig=None, app=lambda q: q)
    end.feed(SNRM)
    for i in range(0, len(data), chunk):
        end.feed(data[i : i + chunk])
    c = HdlcClient(0x10)
    assert exchange(c, end, c.connect()) == hl.CONNECTED
