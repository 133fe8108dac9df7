# ACSE and xDLMS Initiate codecs on the MicroPython unix port: the spec vectors, errors and a small mutation fuzz.
from firmware.dlms import acse, ber, initiate
from firmware.dlms.ber import BerError


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


# spec/dlms-byte-examples.md 4.1, 4.2 (wrapper stripped) and 4.3 (HDLC and LLC stripped)
VECTORS = (
    "60 1D A1 09 06 07 60 85 74 05 08 01 01 BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 00 7E 1F 04 B0",
    "60 36 A1 09 06 07 60 85 74 05 08 01 01 8A 02 07 80 8B 07 60 85 74 05 08 02 01 AC 0A 80 08 31 32 33 34 35 36 37 38"
    " BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 00 7E 1F 04 B0",
    "60 66 A1 09 06 07 60 85 74 05 08 01 03 A6 0A 04 08 4D 4D 4D 00 00 BC 61 4E 8A 02 07 80 8B 07 60 85 74 05 08 02 01"
    " AC 0A 80 08 31 32 33 34 35 36 37 38 BE 34 04 32 21 30 30 01 23 45 67 80 13 02 FF 8A 78 74 13 3D 41 4C ED 25 B4 25"
    " 34 D2 8D B0 04 77 20 60 6B 17 5B D5 22 11 BE 68 41 DB 20 4D 39 EE 6F DB 8E 35 68 55",
    "61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00 A3 05 A1 03 02 01 00 BE 10 04 0E 08 00 06 5F 1F 04 00 00 50"
    " 1F 01 F4 00 07",
    "61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 01 A3 05 A1 03 02 01 02 BE 10 04 0E 08 00 06 5F 1F 04 00 00 50"
    " 1F 01 F4 00 07",
    "61 1F A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 01 A3 05 A1 03 02 01 01 BE 06 04 04 0E 01 06 01",
    "61 42 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00 A3 05 A1 03 02 01 0E 88 02 07 80 89 07 60 85 74 05 08 02 05"
    " AA 0A 80 08 50 36 77 52 4A 32 31 46 BE 10 04 0E 08 00 06 5F 1F 04 00 00 50 1F 01 F4 00 07",
    "60 1D A1 09 06 07 60 85 74 05 08 01 01 BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 40 1E 5D FF FF",
    "60 33 A1 09 06 07 60 85 74 05 08 01 01 8A 02 07 80 8B 07 60 85 74 05 08 02 01 AC 07 80 05 48 45 4C 4C 4F BE 10 04"
    " 0E 01 00 00 00 06 5F 1F 04 00 40 1E 5D FF FF",
    "60 3F A1 09 06 07 60 85 74 05 08 01 01 A6 0A 04 08 75 74 69 A1 DF 81 65 BF 8A 02 07 80 8B 07 60 85 74 05 08 02 01"
    " AC 07 80 05 48 45 4C 4C 4F BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 20 52 5F FF FF",
    "61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00 A3 05 A1 03 02 01 00 BE 10 04 0E 08 00 06 5F 1F 04 00 00 12"
    " 1D FF FF 00 07",
    "61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 01 A3 05 A1 03 02 01 0D BE 10 04 0E 08 00 06 5F 1F 04 00 40 1E"
    " 5D FF FF 00 07",
    "62 03 80 01 00",
    "62 15 80 01 00 BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 00 12 1D FF FF",
    "63 15 80 01 00 BE 10 04 0E 08 00 06 5F 1F 04 00 00 12 1D FF FF 00 07",
    "60 1D A1 09 06 07 60 85 74 05 08 01 01 BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 00 1E 1D FF FF",
    "61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00 A3 05 A1 03 02 01 00 BE 10 04 0E 08 00 06 5F 1F 04 00 00 1E"
    " 1D 04 C8 00 07",
    "61 17 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 01 A3 05 A1 03 02 01 0D",
)
MALFORMED_RLRE = "63 0E 80 01 00 BE 0F 04 0E 08 00 06 5F 1F 04 00 40 1E 5D FF FF 00 07"


def _raises(f, *args):
    try:
        f(*args)
    except BerError:
        return
    raise AssertionError("no BerError")


def test_vectors_roundtrip():
    buf = bytearray(256)
    mv = memoryview(buf)
    for s in VECTORS:
        b = h(s)
        o = acse.decode(memoryview(b))
        n = o.encode(buf, 3)
        assert bytes(buf[3:n]) == b, s
        n = o.encode(mv, 0)  # into a memoryview as well
        assert bytes(mv[:n]) == b
        assert type(acse.decode(mv[:n])) is type(o)


def test_fields():
    a = acse.decode_aarq(h(VECTORS[8]))
    assert a.application_context_name == acse.CONTEXT_LN
    assert a.sender_acse_requirements and a.mechanism_name == acse.MECHANISM_LOW
    assert a.calling_authentication_value == b"HELLO"
    assert a.user_information.proposed_conformance == 0x401E5D
    assert a.user_information.client_max_receive_pdu_size == 0xFFFF
    c = acse.decode_aarq(h(VECTORS[2]))
    assert c.application_context_name == acse.CONTEXT_LN_CIPHERED and c.user_information is None
    assert c.ciphered_user_information[:2] == b"\x21\x30" and len(c.ciphered_user_information) == 0x32
    e = acse.decode_aare(h(VECTORS[5])).user_information
    assert (e.service, e.error, e.value) == (1, 6, initiate.INITIATE_DLMS_VERSION_TOO_LOW)
    r = acse.decode_aare(h(VECTORS[17]))
    assert r.result == acse.REJECTED_PERMANENT and r.result_source_diagnostic == acse.DIAG_AUTHENTICATION_FAILURE
    assert r.user_information is None


def test_server_replies():
    buf = bytearray(64)
    ok = acse.Aare(user_information=initiate.InitiateResponse(negotiated_conformance=0x00121D))
    n = ok.encode(buf, 0)
    assert bytes(buf[:n]) == h(VECTORS[10])
    n = acse.Rlre(reason=0, user_information=initiate.InitiateResponse(negotiated_conformance=0x00121D)).encode(buf, 0)
    assert bytes(buf[:n]) == h(VECTORS[14])
    assert bytes(buf[:n]) != h(MALFORMED_RLRE)
    bad = acse.Aare(result=1, result_source_diagnostic=13)
    n = bad.encode(buf, 0)
    assert bytes(buf[:n]) == h(VECTORS[17])


def test_malformed_and_truncated():
    _raises(acse.decode, h(MALFORMED_RLRE))
    for s in VECTORS:
        b = h(s)
        for n in range(len(b)):
            _raises(acse.decode, b[:n])
    for s in ("", "00", "60 00", "60 83 FF FF FF", "60 80 00 00", "61 03 A2 01 00"):
        _raises(acse.decode, h(s))


def test_conformance():
    buf = bytearray(7)
    m = initiate.GET | initiate.SET | initiate.ACTION | initiate.SELECTIVE_ACCESS | initiate.EVENT_NOTIFICATION
    m |= initiate.PRIORITY_MGMT_SUPPORTED | initiate.BLOCK_TRANSFER_WITH_GET_OR_READ
    initiate.put_conformance(buf, 0, m)
    assert bytes(buf) == h("5F 1F 04 00 00 50 1F")
    assert initiate.read_conformance(buf, 0, 7) == (m, 7)
    assert initiate.conformance_bit(0) == initiate.RESERVED_ZERO == 0x800000
    assert initiate.conformance_bit(23) == initiate.ACTION == 1


def test_long_lengths_and_full_buffer():
    buf = bytearray(400)
    a = acse.Aarq(calling_ap_title=bytes(300), user_information=initiate.InitiateRequest())
    n = a.encode(buf, 0)
    assert bytes(buf[:4]) == h("60 82 01 51") and n == 4 + 0x151
    d = acse.decode_aarq(memoryview(buf)[:n])
    assert d.calling_ap_title == bytes(300)
    for size in (0, 10, n - 1):
        small = bytearray(size)
        _raises(a.encode, small, 0)
        assert len(small) == size
    mv = memoryview(bytearray(n))
    assert a.encode(mv, 0) == n and bytes(mv) == bytes(buf[:n])


def test_mutation_fuzz():
    # A small deterministic fuzz: only BerError may escape, on this runtime too.
    seed = 12345
    count = 0
    for i in range(3000):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        b = bytearray(h(VECTORS[seed % len(VECTORS)]))
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        b[seed % len(b)] = (seed >> 8) & 0xFF
        if i & 1:
            b = b[: (seed >> 16) % (len(b) + 1)]
        try:
            o = acse.decode(memoryview(b))
        except BerError:
            continue
        count += 1
        try:
            o.encode(bytearray(300), 0)
        except BerError:
            pass
    assert count > 100
    _raises(ber.read_len, h("84 00 00 00 01"), 0, 5)
