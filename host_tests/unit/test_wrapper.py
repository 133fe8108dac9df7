"""firmware/dlms/wrapper.py: the IEC 62056-47 wrapper header and the TCP stream reassembler."""
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.dlms import wrapper
from firmware.dlms.wrapper import HEADER_LEN, Reassembler, WrapperError, decode, decode_header, encode_header

FUZZ = settings(derandomize=True, max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")), deadline=None)

# spec/dlms-byte-examples.md 4.2, captured on loopback: (hex, source wPort, destination wPort, first APDU byte)
EXCHANGES = [
    (  # AARQ, client 0x10, auth NONE (Gurux client)
        "00 01 00 10 00 01 00 1F 60 1D A1 09 06 07 60 85 74 05 08 01 01 BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 40 1E"
        " 5D FF FF",
        0x10, 0x01, 0x60,
    ),
    (  # AARQ, client 0x20, LOW "HELLO" (Gurux client)
        "00 01 00 20 00 01 00 35 60 33 A1 09 06 07 60 85 74 05 08 01 01 8A 02 07 80 8B 07 60 85 74 05 08 02 01 AC 07"
        " 80 05 48 45 4C 4C 4F BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 40 1E 5D FF FF",
        0x20, 0x01, 0x60,
    ),
    (  # AARQ, client 0x20, LOW "HELLO" (dlms-cosem, calling-AP-title)
        "00 01 00 20 00 01 00 41 60 3F A1 09 06 07 60 85 74 05 08 01 01 A6 0A 04 08 75 74 69 A1 DF 81 65 BF 8A 02 07"
        " 80 8B 07 60 85 74 05 08 02 01 AC 07 80 05 48 45 4C 4C 4F BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 20 52 5F FF"
        " FF",
        0x20, 0x01, 0x60,
    ),
    (  # AARE accepted
        "00 01 00 01 00 20 00 2B 61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00 A3 05 A1 03 02 01 00 BE 10 04"
        " 0E 08 00 06 5F 1F 04 00 00 12 1D FF FF 00 07",
        0x01, 0x20, 0x61,
    ),
    (  # AARE rejected, authentication-failure
        "00 01 00 01 00 20 00 2B 61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 01 A3 05 A1 03 02 01 0D BE 10 04"
        " 0E 08 00 06 5F 1F 04 00 40 1E 5D FF FF 00 07",
        0x01, 0x20, 0x61,
    ),
    (  # DataNotification push, meter wPort 1 -> push client 0x66
        "00 01 00 01 00 66 00 27 0F C0 00 00 01 00 02 03 09 06 00 00 19 09 00 FF 09 10 47 52 58 30 30 30 30 30 30 30"
        " 30 30 30 30 30 31 06 00 01 E2 40",
        0x01, 0x66, 0x0F,
    ),
]
WPDUS = [bytes.fromhex(h) for h, _, _, _ in EXCHANGES]


@pytest.mark.parametrize("hexstr,src,dst,first", EXCHANGES)
def test_vectors_split_at_header(hexstr, src, dst, first):
    w = bytes.fromhex(hexstr)
    s, d, n = decode_header(memoryview(w))
    assert (s, d) == (src, dst)
    assert n == len(w) - HEADER_LEN
    s, d, apdu = decode(w)
    assert isinstance(apdu, memoryview) and apdu[0] == first and bytes(apdu) == w[8:]
    # the A-XDR/BER length of the APDU agrees with the wrapper length
    assert apdu[0] == 0x0F or apdu[1] + 2 == n
    buf = bytearray(20)
    assert encode_header(buf, src, dst, n, 3) == 11
    assert bytes(buf[3:11]) == w[:8]
    assert encode_header(memoryview(buf), src, dst, n) == HEADER_LEN and bytes(buf[:8]) == w[:8]


def test_reassembler_whole_and_byte_by_byte():
    stream = b"".join(WPDUS)
    for chunk in (len(stream), 1, 3, 7, 8, 9, 50):
        r = Reassembler(200)
        buf_id = id(r._buf)
        got = []
        for i in range(0, len(stream), chunk):
            for apdu in r.feed(stream[i : i + chunk]):
                assert isinstance(apdu, memoryview)
                got.append((r.source, r.destination, bytes(apdu)))
        assert got == [(s, d, w[8:]) for (_, s, d, _), w in zip(EXCHANGES, WPDUS)]
        assert r.pending() == 0
        assert id(r._buf) == buf_id and len(r._buf) == 200  # never grows


def test_reassembler_views_share_its_buffer():
    r = Reassembler(100)
    views = list(r.feed(WPDUS[0]))
    assert len(views) == 1 and views[0].obj is r._buf  # no copy of the APDU


def test_reassembler_zero_length_apdu():
    r = Reassembler(10)
    assert [bytes(a) for a in r.feed(bytes.fromhex("0001001000010000") + WPDUS[0][:4])] == [b""]
    assert r.pending() == 4


def test_reassembler_errors():
    r = Reassembler(0x2A)
    with pytest.raises(WrapperError):
        list(r.feed(WPDUS[3]))  # length 0x2B > 0x2A
    assert r.pending() == 0
    r = Reassembler(0x2B)
    assert [bytes(a) for a in r.feed(WPDUS[3])] == [WPDUS[3][8:]]
    bad = bytearray(WPDUS[3])
    bad[1] = 2  # version 2
    with pytest.raises(WrapperError):
        list(r.feed(bad))
    # the error comes once the header is complete, whatever the chunking
    r = Reassembler(100)
    assert list(r.feed(bad[:7])) == []
    with pytest.raises(WrapperError):
        list(r.feed(bad[7:8]))
    assert isinstance(WrapperError("x"), ValueError)


def test_header_errors():
    with pytest.raises(WrapperError):
        decode_header(WPDUS[0][:7])
    with pytest.raises(WrapperError):
        decode_header(b"\x00\x02" + WPDUS[0][2:])
    with pytest.raises(WrapperError):
        decode(WPDUS[0][:-1])
    with pytest.raises(WrapperError):
        decode(WPDUS[0] + b"\x00")
    for args in ((0x10000, 1, 1), (1, -1, 1), (1, 1, 0x10000)):
        with pytest.raises(WrapperError):
            encode_header(bytearray(8), *args)
    with pytest.raises(WrapperError):
        encode_header(bytearray(7), 1, 1, 1)
    with pytest.raises(WrapperError):
        encode_header(bytearray(10), 1, 1, 1, 3)
    assert wrapper.PORT == 4059


def test_gurux_wrapper_frames_reassemble():
    from gurux_dlms import GXByteBuffer, GXDLMSClient
    from gurux_dlms.enums import Authentication, InterfaceType

    c = GXDLMSClient(True, 0x10, 1, Authentication.NONE, None, InterfaceType.WRAPPER)
    frames = c.aarqRequest()
    r = Reassembler(1000)
    apdus = [bytes(a) for f in frames for a in r.feed(f)]
    assert len(apdus) == 1 and apdus[0][0] == 0x60 and (r.source, r.destination) == (0x10, 1)
    assert bytes(frames[0])[:8] == WPDUS[0][:8]
    # and a header we encode is one Gurux parses back
    buf = bytearray(8 + len(apdus[0]))
    encode_header(buf, 1, 0x10, len(apdus[0]))
    buf[8:] = apdus[0]
    assert GXByteBuffer(buf).getUInt16(6) == len(apdus[0])


@FUZZ
@given(
    st.lists(st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.binary(max_size=64)), max_size=6),
    st.lists(st.integers(1, 40), min_size=1, max_size=10),
)
def test_fuzz_round_trip_any_chunking(wpdus, cuts):
    stream = bytearray()
    for s, d, apdu in wpdus:
        h = bytearray(8)
        encode_header(h, s, d, len(apdu))
        assert decode_header(h) == (s, d, len(apdu))
        stream += h + apdu
    r = Reassembler(64)
    got = []
    pos = 0
    i = 0
    while pos < len(stream):
        k = cuts[i % len(cuts)]
        i += 1
        for a in r.feed(memoryview(stream)[pos : pos + k]):
            got.append((r.source, r.destination, bytes(a)))
        pos += k
    assert got == [(s, d, a) for s, d, a in wpdus]
    assert r.pending() == 0 and len(r._buf) == 64


@FUZZ
@given(st.binary(max_size=400), st.integers(1, 64))
def test_fuzz_garbage_only_wrapper_error(data, chunk):
    r = Reassembler(100)
    try:
        for i in range(0, len(data), chunk):
            for a in r.feed(data[i : i + chunk]):
                assert len(a) <= 100
    except WrapperError:
        pass
    assert len(r._buf) == 100
    try:
        decode(data)
    except WrapperError:
        pass
