# The framing codecs (crc16, dlms/wrapper, dlms/hdlc) on the MicroPython unix port, with the
# byte vectors of spec/dlms-byte-examples.md 4.2 and 4.3 (same vectors as host_tests/unit).
from firmware.crc16 import crc16_x25
from firmware.dlms import hdlc
from firmware.dlms import wrapper

N = None
# hex, (dst, dst_len, src, src_len, kind, ns, nr, pf, segmented), params, helper re-encodes it byte for byte
HDLC = [
    ("7EA0070321930F017E", (1, 1, 0x10, 1, 0x83, N, N, True, False), N, True),
    ("7EA00802232193BD647E", (145, 2, 0x10, 1, 0x83, N, N, True, False), N, True),
    ("7EA01403219363E7818008050201000602010056967E", (1, 1, 0x10, 1, 0x83, N, N, True, False), (256, 256, 1, 1), True),
    ("7EA00721037301407E", (0x10, 1, 1, 1, 0x63, N, N, True, False), N, True),
    (
        "7EA02021037373988180140502008006020080070400000001080400000001CE6A7E",
        (0x10, 1, 1, 1, 0x63, N, N, True, False),
        (128, 128, 1, 1),
        False,
    ),
    (
        "7EA01F21022373E6C781801205019A06019A070400000001080400000001CCA27E",
        (0x10, 1, 145, 2, 0x63, N, N, True, False),
        (0x9A, 0x9A, 1, 1),
        True,
    ),
    (
        "7EA0210502217380BC8180140502010006020100070400000001080400000001696D7E",
        (2, 1, 144, 2, 0x63, N, N, True, False),
        (256, 256, 1, 1),
        True,
    ),
    ("7EA00703215303C77E", (1, 1, 0x10, 1, 0x43, N, N, True, False), N, True),
    (
        "7EA0190321107FDAE6E600C001C100080000010000FF0200601A7E",
        (1, 1, 0x10, 1, 0, 0, 0, True, False),
        N,
        True,
    ),
    (
        "7EA02C02232110AF9FE6E600601DA109060760857405080101BE10040E01000000065F1F0400001E1DFFFFC5E47E",
        (145, 2, 0x10, 1, 0, 0, 0, True, False),
        N,
        True,
    ),
    (
        "7EA0382102233034E7E6E7006129A109060760857405080101A203020100A305A103020100BE10040E0800065F1F"
        "0400001E1D04C80007B86A7E",
        (0x10, 1, 145, 2, 0, 0, 1, True, False),
        N,
        True,
    ),
    (
        "7EA026210201304F22E6E7006117A109060760857405080101A203020101A305A10302010DAE4F7E",
        (0x10, 1, 128, 2, 0, 0, 1, True, False),
        N,
        True,
    ),
    # Gurux SNRM to server 1/0x1234 with 4-byte addresses, and the UA we answer it with
    ("7ea00a0002486921937bf77e", (0x5234, 4, 0x10, 1, 0x83, N, N, True, False), N, True),
    (
        "7ea021210002486973ef89818012050164060164070400000001080400000001c0ec7e",
        (0x10, 1, 0x5234, 4, 0x63, N, N, True, False),
        (100, 100, 1, 1),
        True,
    ),
]
FRAMES = [bytes.fromhex(h) for h, _, _, _ in HDLC]

WPDUS = [
    (
        "000100100001001F601DA109060760857405080101BE10040E01000000065F1F0400401E5DFFFF",
        0x10,
        1,
    ),
    (
        "000100010020002B6129A109060760857405080101A203020100A305A103020100BE10040E0800065F1F040000121DFFFF0007",
        1,
        0x20,
    ),
    (
        "0001000100660027"
        "0FC000000100020309060000190900FF091047525830303030303030303030303031060001E240",
        1,
        0x66,
    ),
]


def _raises(fn, *args):
    try:
        fn(*args)
    except hdlc.HdlcError:
        return True
    except wrapper.WrapperError:
        return True
    return False


def _fields(f):
    return (f.dst, f.dst_len, f.src, f.src_len, f.kind, f.ns, f.nr, f.pf, f.segmented)


def _helper(buf, f):
    a = (f.dst_len, f.src_len)
    p = hdlc.parse_params(f.info) if f.info is not None and f.kind in (hdlc.SNRM, hdlc.UA) else None
    if f.kind == hdlc.SNRM:
        return hdlc.encode_snrm(buf, f.dst, f.src, p, *a)
    if f.kind == hdlc.UA:
        return hdlc.encode_ua(buf, f.dst, f.src, p, *a)
    if f.kind == hdlc.DISC:
        return hdlc.encode_disc(buf, f.dst, f.src, *a)
    return hdlc.encode_i(buf, f.dst, f.src, f.ns, f.nr, f.info, f.pf, f.segmented, *a)


def test_crc_check_value():
    assert crc16_x25(b"123456789") == 0x906E
    assert crc16_x25(memoryview(b"xx123456789yy"), 2, 11) == 0x906E
    assert crc16_x25(bytearray(b"123456789"), 0, 9) == 0x906E


def test_hdlc_vectors_decode_and_reencode():
    buf = bytearray(300)
    for raw, (h, expect, params, canonical) in zip(FRAMES, HDLC):
        f = hdlc.decode(memoryview(raw))
        assert _fields(f) == expect, h
        if params is not None:
            assert hdlc.parse_params(f.info) == params
        elif f.kind in (hdlc.SNRM, hdlc.UA):
            assert f.info is None
        if f.kind == hdlc.I_FRAME:
            assert bytes(f.info[:3]) in (hdlc.LLC_REQUEST, hdlc.LLC_RESPONSE)
        n = hdlc.encode_frame(buf, f.dst, f.src, f.control, f.info, f.segmented, f.dst_len, f.src_len)
        assert bytes(buf[:n]) == raw, h
        n = _helper(buf, f)
        assert (bytes(buf[:n]) == raw) == canonical, h


def test_hdlc_addresses():
    assert hdlc.join_address(1, 17, 2) == 145 and hdlc.split_address(145, 2) == (1, 17)
    assert hdlc.join_address(1, 0x1234, 4) == 0x5234 and hdlc.split_address(0x5234, 4) == (1, 0x1234)
    assert hdlc.split_address(0x10, 1) == (0x10, None)


def test_hdlc_single_byte_changes_rejected():
    for raw in FRAMES:
        for i in range(len(raw)):
            for x in (1, 0x80, 0xFF):
                m = bytearray(raw)
                m[i] ^= x
                assert _raises(hdlc.decode, m), (raw, i, x)
        for k in range(len(raw)):
            assert _raises(hdlc.decode, raw[:k])


def test_hdlc_params_and_errors():
    buf = bytearray(40)
    n = hdlc.encode_params(buf, 0, (256, 256, 1, 1), True)
    assert bytes(buf[:n]) == bytes.fromhex("8180080502010006020100")
    info = bytes.fromhex("81F002AABB800F090212340503000100080105070102")
    assert hdlc.parse_params(info) == (256, 128, 2, 5)
    assert _raises(hdlc.parse_params, bytes.fromhex("818005050201"))
    assert _raises(hdlc.encode_i, bytearray(20), 1, 0x10, 0, 0, b"x" * 10)
    small = bytearray(20)
    assert _raises(hdlc.encode_frame, small, 1, 0x10, 0x10, b"x" * 12) and len(small) == 20
    assert _raises(hdlc.encode_disc, buf, 0x80, 0x10)
    assert _raises(hdlc.encode_i, buf, 1, 0x10, 8, 0, b"x")
    assert hdlc.encode_frame(bytearray(2049), 1, 0x10, 0x10, b"x" * 2038) == 2049
    assert _raises(hdlc.encode_frame, bytearray(2060), 1, 0x10, 0x10, b"x" * 2039)


def _deframe(d, stream, chunk):
    out = []
    for i in range(0, len(stream), chunk):
        for f in d.feed(stream[i : i + chunk]):
            out.append(bytes(f.raw))
    return out


def test_deframer_chunkings_and_shared_flags():
    stream = b"".join(FRAMES)
    for chunk in (1, 3, 8, 14, 15, 40, len(stream)):
        d = hdlc.Deframer(128)
        assert _deframe(d, stream, chunk) == FRAMES
        assert (d.frames, d.dropped_frames, d.dropped_bytes, d.pending()) == (len(FRAMES), 0, 0, 0)
    shared = FRAMES[0] + b"".join(f[1:] for f in FRAMES[1:])
    d = hdlc.Deframer(128)
    assert _deframe(d, shared, 5) == FRAMES and d.dropped_bytes == 0


def test_deframer_garbage_resync_and_flush():
    g = b"\x00\x11\x7e\x7e\xa0" + FRAMES[0] + b"\x7e\xa0\x30\x03\x21\x10\x00\x00" + FRAMES[8] + b"\x7e\xa7\xff"
    stream = g + FRAMES[1] + FRAMES[9][:-5] + FRAMES[10]
    d = hdlc.Deframer(128)
    want = [FRAMES[0], FRAMES[8], FRAMES[1], FRAMES[10]]
    assert _deframe(d, stream, 4) == want
    assert d.dropped_bytes == len(stream) - sum(len(f) for f in want) and d.dropped_frames >= 4
    d = hdlc.Deframer(128)
    assert _deframe(d, b"\x7e\xa0\x50" + FRAMES[3], 100) == []
    assert [bytes(f.raw) for f in d.flush()] == [FRAMES[3]] and d.pending() == 0
    list(d.feed(FRAMES[0][:5]))
    d.reset()
    assert d.pending() == 0


def test_deframer_pseudo_random_garbage():
    # a small LCG instead of random: the same bytes on both runtimes
    x = 12345
    for round in range(30):
        g = bytearray()
        for _ in range(round * 7):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            g.append((x >> 16) & 0xFF if x & 3 else 0x7E)
        d = hdlc.Deframer(64)
        got = _deframe(d, bytes(g) + FRAMES[round % 4] + FRAMES[7], 1 + round % 9)
        got += [bytes(f.raw) for f in d.flush()]
        assert FRAMES[round % 4] in got and got[-1] == FRAMES[7]
        assert len(d._buf) == 64


def test_wrapper_vectors_and_reassembly():
    ws = [(bytes.fromhex(h), s, dd) for h, s, dd in WPDUS]
    buf = bytearray(8)
    for w, s, dd in ws:
        assert wrapper.decode_header(memoryview(w)) == (s, dd, len(w) - 8)
        s2, d2, apdu = wrapper.decode(w)
        assert (s2, d2, bytes(apdu)) == (s, dd, w[8:])
        wrapper.encode_header(buf, s, dd, len(w) - 8)
        assert bytes(buf) == w[:8]
    stream = b"".join(w for w, _, _ in ws)
    for chunk in (1, 7, 8, 9, len(stream)):
        r = wrapper.Reassembler(100)
        got = []
        for i in range(0, len(stream), chunk):
            for a in r.feed(stream[i : i + chunk]):
                got.append((r.source, r.destination, bytes(a)))
        assert got == [(s, dd, w[8:]) for w, s, dd in ws] and r.pending() == 0 and len(r._buf) == 100


def test_wrapper_errors():
    w = bytes.fromhex(WPDUS[1][0])
    r = wrapper.Reassembler(0x2A)
    assert _raises(lambda: list(r.feed(w)))
    bad = bytearray(w)
    bad[1] = 2
    assert _raises(lambda: list(wrapper.Reassembler(100).feed(bad)))
    assert _raises(wrapper.decode_header, w[:7])
    assert _raises(wrapper.decode, w[:-1])
    assert _raises(wrapper.encode_header, bytearray(8), 0x10000, 1, 1)
    assert _raises(wrapper.encode_header, bytearray(7), 1, 1, 1)
