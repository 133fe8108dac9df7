"""ACSE (AARQ/AARE/RLRQ/RLRE) and xDLMS Initiate codecs: spec byte vectors, interop with Gurux and dlms-cosem, fuzzing."""
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.dlms import acse, ber, initiate
from firmware.dlms.ber import BerError

FUZZ = settings(derandomize=True, max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")), deadline=None)


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


def unwrap(s):
    """Payload of a TCP wrapper frame (version 1, source, destination, length)."""
    b = h(s)
    assert b[:2] == b"\x00\x01" and int.from_bytes(b[6:8], "big") == len(b) - 8
    return b[8:]


def hdlc_info(s):
    """APDU of an HDLC I-frame: drop flags, format, addresses, control, HCS, LLC and FCS."""
    b = h(s)
    assert b[0] == 0x7E and b[-1] == 0x7E and b[1] & 0xF0 == 0xA0
    p = 3
    for _ in range(2):  # destination then source address: extended, the last octet has bit 0 set
        while not b[p] & 1:
            p += 1
        p += 1
    p += 1 + 2  # control, HCS
    assert b[p : p + 2] in (b"\xe6\xe6", b"\xe6\xe7") and b[p + 2] == 0
    return b[p + 3 : -3]


# ---- the vectors of spec/dlms-byte-examples.md 4.1, 4.2 and 4.3 ----
GB_AARQ = h("60 1D A1 09 06 07 60 85 74 05 08 01 01 BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 00 7E 1F 04 B0")
GB_AARQ_LLS = h(
    "60 36 A1 09 06 07 60 85 74 05 08 01 01 8A 02 07 80 8B 07 60 85 74 05 08 02 01 AC 0A 80 08"
    " 31 32 33 34 35 36 37 38 BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 00 7E 1F 04 B0"
)
GB_AARQ_CIPHERED = h(
    "60 66 A1 09 06 07 60 85 74 05 08 01 03 A6 0A 04 08 4D 4D 4D 00 00 BC 61 4E 8A 02 07 80 8B 07 60 85"
    " 74 05 08 02 01 AC 0A 80 08 31 32 33 34 35 36 37 38 BE 34 04 32 21 30 30 01 23 45 67 80 13 02 FF"
    " 8A 78 74 13 3D 41 4C ED 25 B4 25 34 D2 8D B0 04 77 20 60 6B 17 5B D5 22 11 BE 68 41 DB 20 4D 39"
    " EE 6F DB 8E 35 68 55"
)
GB_AARE = h(
    "61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00 A3 05 A1 03 02 01 00 BE 10 04 0E 08 00 06"
    " 5F 1F 04 00 00 50 1F 01 F4 00 07"
)
GB_AARE_CONTEXT = h(
    "61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 01 A3 05 A1 03 02 01 02 BE 10 04 0E 08 00 06"
    " 5F 1F 04 00 00 50 1F 01 F4 00 07"
)
GB_AARE_VERSION = h(
    "61 1F A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 01 A3 05 A1 03 02 01 01 BE 06 04 04 0E 01 06 01"
)
GB_AARE_HLS = h(
    "61 42 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00 A3 05 A1 03 02 01 0E 88 02 07 80 89 07 60 85"
    " 74 05 08 02 05 AA 0A 80 08 50 36 77 52 4A 32 31 46 BE 10 04 0E 08 00 06 5F 1F 04 00 00 50 1F 01"
    " F4 00 07"
)
LO_AARQ_NONE = unwrap(
    "00 01 00 10 00 01 00 1F 60 1D A1 09 06 07 60 85 74 05 08 01 01 BE 10 04 0E 01 00 00 00 06 5F 1F"
    " 04 00 40 1E 5D FF FF"
)
LO_AARQ_LOW = unwrap(
    "00 01 00 20 00 01 00 35 60 33 A1 09 06 07 60 85 74 05 08 01 01 8A 02 07 80 8B 07 60 85 74 05 08"
    " 02 01 AC 07 80 05 48 45 4C 4C 4F BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 40 1E 5D FF FF"
)
LO_AARQ_COSEM = unwrap(
    "00 01 00 20 00 01 00 41 60 3F A1 09 06 07 60 85 74 05 08 01 01 A6 0A 04 08 75 74 69 A1 DF 81 65"
    " BF 8A 02 07 80 8B 07 60 85 74 05 08 02 01 AC 07 80 05 48 45 4C 4C 4F BE 10 04 0E 01 00 00 00 06"
    " 5F 1F 04 00 20 52 5F FF FF"
)
LO_AARE = unwrap(
    "00 01 00 01 00 20 00 2B 61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00 A3 05 A1 03 02 01"
    " 00 BE 10 04 0E 08 00 06 5F 1F 04 00 00 12 1D FF FF 00 07"
)
LO_AARE_AUTH = unwrap(
    "00 01 00 01 00 20 00 2B 61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 01 A3 05 A1 03 02 01"
    " 0D BE 10 04 0E 08 00 06 5F 1F 04 00 40 1E 5D FF FF 00 07"
)
LO_RLRQ = h("62 03 80 01 00")
LO_RLRQ_UI = h("62 15 80 01 00 BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 00 12 1D FF FF")
LO_RLRE = h("63 15 80 01 00 BE 10 04 0E 08 00 06 5F 1F 04 00 00 12 1D FF FF 00 07")
LO_RLRE_MALFORMED = h("63 0E 80 01 00 BE 0F 04 0E 08 00 06 5F 1F 04 00 40 1E 5D FF FF 00 07")
HDLC_AARQ = hdlc_info(
    "7E A0 2C 02 23 21 10 AF 9F E6 E6 00 60 1D A1 09 06 07 60 85 74 05 08 01 01 BE 10 04 0E 01 00 00 00"
    " 06 5F 1F 04 00 00 1E 1D FF FF C5 E4 7E"
)
HDLC_AARE = hdlc_info(
    "7E A0 38 21 02 23 30 34 E7 E6 E7 00 61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00 A3 05"
    " A1 03 02 01 00 BE 10 04 0E 08 00 06 5F 1F 04 00 00 1E 1D 04 C8 00 07 B8 6A 7E"
)
HDLC_AARE_NO_UI = hdlc_info(
    "7E A0 26 21 02 01 30 4F 22 E6 E7 00 61 17 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 01 A3 05"
    " A1 03 02 01 0D AE 4F 7E"
)

VALID = {
    "gb_aarq": GB_AARQ,
    "gb_aarq_lls": GB_AARQ_LLS,
    "gb_aarq_ciphered": GB_AARQ_CIPHERED,
    "gb_aare": GB_AARE,
    "gb_aare_context": GB_AARE_CONTEXT,
    "gb_aare_version": GB_AARE_VERSION,
    "gb_aare_hls": GB_AARE_HLS,
    "lo_aarq_none": LO_AARQ_NONE,
    "lo_aarq_low": LO_AARQ_LOW,
    "lo_aarq_cosem": LO_AARQ_COSEM,
    "lo_aare": LO_AARE,
    "lo_aare_auth": LO_AARE_AUTH,
    "lo_rlrq": LO_RLRQ,
    "lo_rlrq_ui": LO_RLRQ_UI,
    "lo_rlre": LO_RLRE,
    "hdlc_aarq": HDLC_AARQ,
    "hdlc_aare": HDLC_AARE,
    "hdlc_aare_no_ui": HDLC_AARE_NO_UI,
}
VALID_LIST = list(VALID.values())


def encode(apdu, pos=0, size=2048):
    buf = bytearray(size)
    n = apdu.encode(buf, pos)
    assert len(buf) == size
    return bytes(buf[pos:n])


def snapshot(o):
    """Plain nested dict of an APDU object, for equality."""
    if o is None or isinstance(o, (int, bytes, bool)):
        return o
    return (type(o).__name__, {k: snapshot(v) for k, v in sorted(vars(o).items())})


# ---- every vector decodes and re-encodes byte for byte ----


@pytest.mark.parametrize("name", sorted(VALID))
def test_vector_roundtrip(name):
    b = VALID[name]
    o = acse.decode(memoryview(b))
    assert encode(o) == b
    assert encode(o, pos=5) == b  # at an offset in the caller's buffer
    # decoding from bytes and from a bytearray gives the same
    assert snapshot(acse.decode(b)) == snapshot(acse.decode(bytearray(b))) == snapshot(o)


def test_gb_aarq_fields():
    a = acse.decode_aarq(memoryview(GB_AARQ))
    assert a.application_context_name == acse.CONTEXT_LN
    assert a.mechanism_name is None and not a.sender_acse_requirements
    assert a.calling_authentication_value is None and a.calling_ap_title is None
    ir = a.user_information
    assert isinstance(ir, initiate.InitiateRequest)
    assert ir.dedicated_key is None and ir.response_allowed and ir.proposed_quality_of_service is None
    assert ir.proposed_dlms_version_number == 6
    assert ir.proposed_conformance == 0x007E1F
    assert ir.client_max_receive_pdu_size == 0x04B0
    assert a.ciphered_user_information is None


def test_lls_aarq_fields():
    a = acse.decode_aarq(GB_AARQ_LLS)
    assert a.sender_acse_requirements is True
    assert a.mechanism_name == acse.MECHANISM_LOW
    assert a.calling_authentication_value == b"12345678"
    assert a.authentication_value_bitstring is False
    a = acse.decode_aarq(LO_AARQ_LOW)  # the manual's Meter Reader: client 0x20, LOW, HELLO
    assert (a.mechanism_name, a.calling_authentication_value) == (acse.MECHANISM_LOW, b"HELLO")
    assert a.user_information.proposed_conformance == 0x401E5D
    assert a.user_information.client_max_receive_pdu_size == 0xFFFF


def test_cosem_aarq_has_calling_ap_title_without_ciphering():
    a = acse.decode_aarq(LO_AARQ_COSEM)
    assert a.application_context_name == acse.CONTEXT_LN
    assert a.calling_ap_title == h("75 74 69 A1 DF 81 65 BF")
    assert a.user_information.proposed_conformance == 0x20525F
    assert a.user_information.proposed_conformance & initiate.GENERAL_BLOCK_TRANSFER


def test_ciphered_aarq_keeps_raw_user_information():
    a = acse.decode_aarq(GB_AARQ_CIPHERED)
    assert a.application_context_name == acse.CONTEXT_LN_CIPHERED
    assert a.calling_ap_title == h("4D 4D 4D 00 00 BC 61 4E")
    assert a.user_information is None
    raw = a.ciphered_user_information
    assert isinstance(raw, bytes) and len(raw) == 0x32
    # glo-initiate-request [33], length 0x30, security control 0x30, invocation counter 01234567
    assert raw[:7] == h("21 30 30 01 23 45 67")


def test_aare_fields():
    a = acse.decode_aare(GB_AARE)
    assert (a.result, a.diagnostic_source, a.result_source_diagnostic) == (acse.ACCEPTED, acse.SOURCE_USER, acse.DIAG_NULL)
    r = a.user_information
    assert isinstance(r, initiate.InitiateResponse)
    assert r.negotiated_quality_of_service is None and r.negotiated_dlms_version_number == 6
    assert r.negotiated_conformance == 0x00501F and r.server_max_receive_pdu_size == 500
    assert r.vaa_name == initiate.VAA_NAME_LN
    a = acse.decode_aare(GB_AARE_CONTEXT)
    assert (a.result, a.result_source_diagnostic) == (acse.REJECTED_PERMANENT, acse.DIAG_APPLICATION_CONTEXT_NAME_NOT_SUPPORTED)
    a = acse.decode_aare(GB_AARE_VERSION)
    e = a.user_information
    assert isinstance(e, initiate.ConfirmedServiceError)
    assert (e.service, e.error, e.value) == (1, 6, initiate.INITIATE_DLMS_VERSION_TOO_LOW)
    a = acse.decode_aare(GB_AARE_HLS)
    assert a.result == acse.ACCEPTED and a.result_source_diagnostic == acse.DIAG_AUTHENTICATION_REQUIRED
    assert a.responder_acse_requirements and a.mechanism_name == acse.MECHANISM_HIGH_GMAC
    assert a.responding_authentication_value == b"P6wRJ21F"
    a = acse.decode_aare(LO_AARE_AUTH)
    assert a.result_source_diagnostic == acse.DIAG_AUTHENTICATION_FAILURE == 13
    a = acse.decode_aare(HDLC_AARE_NO_UI)
    assert a.result == acse.REJECTED_PERMANENT and a.result_source_diagnostic == 13
    assert a.user_information is None and a.ciphered_user_information is None


# ---- what the server and the client build, field by field ----


def test_server_builds_the_aare_vectors():
    ok = acse.Aare(
        user_information=initiate.InitiateResponse(negotiated_conformance=0x00121D, server_max_receive_pdu_size=0xFFFF)
    )
    assert encode(ok) == LO_AARE
    rejected = acse.Aare(
        result=acse.REJECTED_PERMANENT,
        result_source_diagnostic=acse.DIAG_AUTHENTICATION_FAILURE,
        user_information=initiate.InitiateResponse(negotiated_conformance=0x401E5D, server_max_receive_pdu_size=0xFFFF),
    )
    assert encode(rejected) == LO_AARE_AUTH
    rejected.user_information = None  # the L+G way
    assert encode(rejected) == HDLC_AARE_NO_UI
    version = acse.Aare(
        result=acse.REJECTED_PERMANENT,
        result_source_diagnostic=acse.DIAG_NO_REASON_GIVEN,
        user_information=initiate.ConfirmedServiceError(initiate.INITIATE_DLMS_VERSION_TOO_LOW),
    )
    assert encode(version) == GB_AARE_VERSION
    hls = acse.Aare(
        result_source_diagnostic=acse.DIAG_AUTHENTICATION_REQUIRED,
        responder_acse_requirements=True,
        mechanism_name=acse.MECHANISM_HIGH_GMAC,
        responding_authentication_value=b"P6wRJ21F",
        user_information=initiate.InitiateResponse(negotiated_conformance=0x00501F, server_max_receive_pdu_size=500),
    )
    assert encode(hls) == GB_AARE_HLS


def test_provider_diagnostic():
    a = acse.Aare(
        result=acse.REJECTED_PERMANENT,
        diagnostic_source=acse.SOURCE_PROVIDER,
        result_source_diagnostic=acse.DIAG_NO_COMMON_ACSE_VERSION,
    )
    b = encode(a)
    assert b == h("61 17 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 01 A3 05 A2 03 02 01 02")
    d = acse.decode_aare(b)
    assert (d.diagnostic_source, d.result_source_diagnostic) == (acse.SOURCE_PROVIDER, 2)


def test_client_builds_the_gurux_aarqs():
    none = acse.Aarq(user_information=initiate.InitiateRequest(proposed_conformance=0x401E5D))
    assert encode(none) == LO_AARQ_NONE
    low = acse.Aarq(
        sender_acse_requirements=True,
        mechanism_name=acse.MECHANISM_LOW,
        calling_authentication_value=b"HELLO",
        user_information=initiate.InitiateRequest(proposed_conformance=0x401E5D),
    )
    assert encode(low) == LO_AARQ_LOW
    low.calling_ap_title = h("75 74 69 A1 DF 81 65 BF")
    low.user_information.proposed_conformance = 0x20525F
    assert encode(low) == LO_AARQ_COSEM


def test_rlre_answers_only_with_user_information_when_asked():
    # The server's rule: user-information in the RLRE only when the RLRQ carried an InitiateRequest.
    def answer(rlrq_bytes):
        q = acse.decode_rlrq(rlrq_bytes)
        r = acse.Rlre(reason=acse.RELEASE_NORMAL)
        if q.user_information is not None:
            r.user_information = initiate.InitiateResponse(negotiated_conformance=0x00121D, server_max_receive_pdu_size=0xFFFF)
        return encode(r)

    assert answer(LO_RLRQ_UI) == LO_RLRE
    assert answer(LO_RLRQ) == h("63 03 80 01 00")
    assert answer(h("62 00")) == h("63 03 80 01 00")
    assert encode(acse.Rlrq()) == h("62 00") and encode(acse.Rlre()) == h("63 00")


def test_malformed_rlre_is_refused_and_never_produced():
    with pytest.raises(BerError):
        acse.decode(LO_RLRE_MALFORMED)
    with pytest.raises(BerError):
        acse.decode_rlre(LO_RLRE_MALFORMED)
    # the same contents, encoded by us, are the well-formed vector's shape
    r = acse.Rlre(
        reason=0,
        user_information=initiate.InitiateResponse(negotiated_conformance=0x401E5D, server_max_receive_pdu_size=0xFFFF),
    )
    b = encode(r)
    assert b != LO_RLRE_MALFORMED
    assert b == h("63 15 80 01 00 BE 10 04 0E 08 00 06 5F 1F 04 00 40 1E 5D FF FF 00 07")


def test_unknown_oids_decode_to_unknown():
    b = bytearray(GB_AARQ_LLS)
    b[12] = 9  # application context 2.16.756.5.8.1.9
    b[25] = 0x7F  # mechanism 2.16.756.5.8.2.127 is still in range
    a = acse.decode_aarq(bytes(b))
    assert a.application_context_name == 9 and a.mechanism_name == 0x7F
    b[8] = 0x61  # prefix no longer 2.16.756.5.8
    b[21] = 0x61
    a = acse.decode_aarq(bytes(b))
    assert a.application_context_name == acse.UNKNOWN and a.mechanism_name == acse.UNKNOWN
    with pytest.raises(BerError):
        encode(a)


def test_unknown_fields_and_forms_are_skipped():
    # called-AP-title as an OBJECT IDENTIFIER form, an unknown [13] field, an EXTERNAL password,
    # and a private tag: all skipped; the rest decodes.
    extra = h("A2 04 06 02 2A 03") + h("AD 02 05 00") + h("AC 04 A2 02 05 00") + h("DF 40 01 00")
    inner = GB_AARQ[2:13] + extra + GB_AARQ[13:]
    b = bytes([0x60, len(inner)]) + inner
    a = acse.decode_aarq(b)
    assert a.called_ap_title is None and a.calling_authentication_value is None
    assert a.user_information.proposed_conformance == 0x007E1F
    assert encode(a) == GB_AARQ


def test_repeated_fields_replace():
    plain = GB_AARQ[13:]  # BE 10 04 0E 01 ...
    cipher = h("BE 04 04 02 21 00")
    auth_bits = h("AC 04 81 02 00 41")
    auth_external = h("AC 04 A2 02 05 00")
    inner = GB_AARQ[2:13] + auth_bits + auth_external + plain + cipher
    a = acse.decode_aarq(bytes([0x60, len(inner)]) + inner)
    assert a.user_information is None and a.ciphered_user_information == h("21 00")
    assert a.calling_authentication_value is None and a.authentication_value_bitstring is False
    inner = GB_AARQ[2:13] + cipher + auth_external + auth_bits + plain
    a = acse.decode_aarq(bytes([0x60, len(inner)]) + inner)
    assert a.ciphered_user_information is None and a.user_information.client_max_receive_pdu_size == 0x04B0
    assert a.calling_authentication_value == b"A" and a.authentication_value_bitstring is True
    assert snapshot(acse.decode_aarq(encode(a))) == snapshot(a)


def test_bitstring_password_and_invocation_ids():
    a = acse.Aarq(
        protocol_version=0x80,
        called_ap_invocation_id=3,
        calling_ae_invocation_id=0x80,
        calling_authentication_value=b"\x01\x02",
        authentication_value_bitstring=True,
        implementation_information=b"MeterCom",
    )
    b = encode(a)
    assert b[:6] == h("60 2B 80 02 07 80")
    assert h("A4 03 02 01 03") in b and h("A9 04 02 02 00 80") in b
    assert h("AC 05 81 03 00 01 02") in b and h("9D 08") + b"MeterCom" in b
    d = acse.decode_aarq(b)
    assert snapshot(d) == snapshot(a)


def test_initiate_request_optional_fields():
    ir = initiate.InitiateRequest(
        dedicated_key=bytes(range(16)), response_allowed=False, proposed_quality_of_service=-2, proposed_conformance=0x00001D
    )
    buf = bytearray(40)
    n = ir.encode(buf, 0)
    assert bytes(buf[:n]) == h("01 01 10") + bytes(range(16)) + h("01 00 01 FE 06 5F 1F 04 00 00 00 1D FF FF")
    assert snapshot(initiate.decode_initiate_request(buf, 0, n)) == snapshot(ir)
    r = initiate.InitiateResponse(negotiated_quality_of_service=5, vaa_name=initiate.VAA_NAME_SN)
    n = r.encode(buf, 0)
    assert bytes(buf[:n]) == h("08 01 05 06 5F 1F 04 00 00 00 00 FF FF FA 00")
    assert initiate.decode_initiate_response(buf, 0, n).vaa_name == 0xFA00


# ---- conformance block ----

CONFORMANCE_BITS = [
    (0, "RESERVED_ZERO"),
    (1, "GENERAL_PROTECTION"),
    (2, "GENERAL_BLOCK_TRANSFER"),
    (3, "READ"),
    (4, "WRITE"),
    (5, "UNCONFIRMED_WRITE"),
    (6, "DELTA_VALUE_ENCODING"),
    (7, "RESERVED_SEVEN"),
    (8, "ATTRIBUTE0_SUPPORTED_WITH_SET"),
    (9, "PRIORITY_MGMT_SUPPORTED"),
    (10, "ATTRIBUTE0_SUPPORTED_WITH_GET"),
    (11, "BLOCK_TRANSFER_WITH_GET_OR_READ"),
    (12, "BLOCK_TRANSFER_WITH_SET_OR_WRITE"),
    (13, "BLOCK_TRANSFER_WITH_ACTION"),
    (14, "MULTIPLE_REFERENCES"),
    (15, "INFORMATION_REPORT"),
    (16, "DATA_NOTIFICATION"),
    (17, "ACCESS"),
    (18, "PARAMETERIZED_ACCESS"),
    (19, "GET"),
    (20, "SET"),
    (21, "SELECTIVE_ACCESS"),
    (22, "EVENT_NOTIFICATION"),
    (23, "ACTION"),
]


@pytest.mark.parametrize("bit,name", CONFORMANCE_BITS)
def test_conformance_bit_positions(bit, name):
    mask = getattr(initiate, name)
    assert mask == initiate.conformance_bit(bit)
    buf = bytearray(7)
    initiate.put_conformance(buf, 0, mask)
    # BER: bit 0 is the most significant bit of the first octet after the unused-bit count
    assert buf[4 + bit // 8] == 0x80 >> (bit % 8)
    # Gurux's Python enum numbers bits from the other end
    from gurux_dlms.enums import Conformance as GxConformance

    gx_name = {"UNCONFIRMED_WRITE": "UN_CONFIRMED_WRITE"}.get(name, name).replace("ATTRIBUTE0", "ATTRIBUTE_0")
    assert int(getattr(GxConformance, gx_name)) == 1 << bit


def test_conformance_vectors():
    c = initiate
    a = c.PRIORITY_MGMT_SUPPORTED | c.ATTRIBUTE0_SUPPORTED_WITH_GET | c.BLOCK_TRANSFER_WITH_ACTION
    a |= c.BLOCK_TRANSFER_WITH_GET_OR_READ | c.BLOCK_TRANSFER_WITH_SET_OR_WRITE | c.MULTIPLE_REFERENCES
    a |= c.GET | c.SET | c.SELECTIVE_ACCESS | c.EVENT_NOTIFICATION | c.ACTION
    b = c.PRIORITY_MGMT_SUPPORTED | c.BLOCK_TRANSFER_WITH_GET_OR_READ | c.GET | c.SET
    b |= c.SELECTIVE_ACCESS | c.EVENT_NOTIFICATION | c.ACTION
    for mask, wire in ((a, "5F 1F 04 00 00 7E 1F"), (b, "5F 1F 04 00 00 50 1F")):
        buf = bytearray(9)
        assert c.put_conformance(buf, 1, mask) == 8
        assert bytes(buf[1:8]) == h(wire)
        assert c.read_conformance(h(wire), 0, 7) == (mask, 7)
    # dlms-cosem agrees on the meaning of both
    from dlms_cosem.protocol.xdlms import Conformance

    ca = Conformance.from_bytes(h("00 00 7E 1F"))
    assert ca.priority_management_supported and ca.attribute_0_supported_with_get and ca.block_transfer_with_action
    assert ca.multiple_references and ca.get and ca.set and ca.selective_access and ca.event_notification and ca.action
    assert not ca.general_block_transfer and not ca.access
    cb = Conformance.from_bytes(h("00 00 50 1F"))
    assert cb.block_transfer_with_get_or_read and not cb.block_transfer_with_set_or_write


def test_conformance_errors():
    for bad in ("5F 1F 04 00 00 7E", "5F 1E 04 00 00 7E 1F", "5F 1F 03 00 00 7E 1F", "5F 1F 04 08 00 7E 1F"):
        b = h(bad)
        with pytest.raises(BerError):
            initiate.read_conformance(b, 0, len(b))
    # padding bits named by the unused count are not taken as services
    assert initiate.read_conformance(h("5F 1F 04 03 00 00 FF"), 0, 7)[0] == 0xF8
    with pytest.raises(BerError):
        initiate.put_conformance(bytearray(7), 0, 1 << 24)


# ---- BER helpers ----


def test_ber_lengths_and_tags():
    assert ber.read_len(h("05 00 00 00 00 00"), 0, 6) == (5, 1)
    assert ber.read_len(h("81 80") + bytes(128), 0, 130) == (128, 2)
    assert ber.read_len(h("82 00 03 00 00 00"), 0, 6) == (3, 3)  # BER allows the non-minimal form
    for bad in ("80", "84 00 00 00 01 00", "81", "82 01", "05 00", "83 FF FF FF"):
        b = h(bad)
        with pytest.raises(BerError):
            ber.read_len(b, 0, len(b))
    assert ber.read_tag(h("5F 1F"), 0, 2) == (0x5F1F, 2)
    assert ber.read_tag(h("5F 81 01"), 0, 3) == (0x5F8101, 3)
    for bad in ("", "5F", "5F 81", "5F 81 81 01"):
        b = h(bad)
        with pytest.raises(BerError):
            ber.read_tag(b, 0, len(b))
    assert ber.read_int(h("FF"), 0, 1) == -1 and ber.read_int(h("00 80"), 0, 2) == 128
    with pytest.raises(BerError):
        ber.read_int(h(""), 0, 0)
    with pytest.raises(BerError):
        ber.read_int(h("01 02 03 04 05"), 0, 5)


@pytest.mark.parametrize("n", [0, 1, 127, 128, 255, 256, 300, 65535, 65536])
def test_ber_begin_end_moves_long_contents(n):
    buf = bytearray(n + 16)
    s = ber.begin(buf, 2, 0xBE)
    p = ber.put(buf, s, bytes(i & 0xFF for i in range(n)))
    p = ber.end(buf, s, p)
    expect = bytes([0xBE])
    expect += bytes([n]) if n < 128 else bytes([0x81, n]) if n < 256 else bytes([0x82, n >> 8, n & 0xFF]) if n < 65536 else h("83 01 00 00")
    expect += bytes(i & 0xFF for i in range(n))
    assert bytes(buf[2:p]) == expect
    mv = memoryview(bytearray(n + 16))
    s = ber.begin(mv, 0, 0xBE)
    assert ber.end(mv, s, ber.put(mv, s, expect[-n:] if n else b"")) == len(expect)
    assert bytes(mv[: len(expect)]) == expect
    assert ber.read_tlv(expect, 0, len(expect)) == (0xBE, len(expect) - n, len(expect))


def test_encode_never_writes_past_the_buffer():
    for b in VALID_LIST:
        o = acse.decode(b)
        for size in range(len(b)):
            buf = bytearray(size)
            with pytest.raises(BerError):
                o.encode(buf, 0)
            assert len(buf) == size  # a bytearray must not grow
            mv = memoryview(bytearray(size + 4))
            with pytest.raises(BerError):
                o.encode(mv[:size], 0)


def test_huge_claimed_lengths_fail_fast():
    for bad in ("60 83 FF FF FF", "60 84 7F FF FF FF 00", "61 82 01 00 A1", "BE 83 10 00 00 04"):
        with pytest.raises(BerError):
            acse.decode(h(bad))


def test_decode_errors_on_structure():
    bad = [
        "",  # empty
        "64 00",  # not ACSE
        "60 00",  # AARQ without application-context-name
        "61 0B A1 09 06 07 60 85 74 05 08 01 01",  # AARE without result
        "60 1E" + GB_AARQ[2:].hex() + "00",  # trailing byte inside
        GB_AARQ.hex() + "00",  # trailing byte after
        "60 0D A1 0B 06 07 60 85 74 05 08 01 01 05 00",  # two TLVs under an EXPLICIT tag
        "60 0B A1 09 04 07 60 85 74 05 08 01 01",  # context name not an OID
        "60 0F A1 09 06 07 60 85 74 05 08 01 01 BE 02 04 00",  # empty user-information
        "60 10 A1 09 06 07 60 85 74 05 08 01 01 BE 03 04 01 08",  # an InitiateResponse in an AARQ
        "60 10 A1 09 06 07 60 85 74 05 08 01 01 BE 03 04 01 28",  # a response-side ciphered APDU in an AARQ
        "60 0F A1 09 06 07 60 85 74 05 08 01 01 8A 02 08 80",  # unused-bit count 8
        "60 0F A1 09 06 07 60 85 74 05 08 01 01 AC 02 81 00",  # bit string without its count
        "61 15 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00 A3 03 A3 01 00",  # diagnostic choice [3]
    ]
    for s in bad:
        with pytest.raises(BerError):
            acse.decode(h(s))


# ---- interoperability: dlms-cosem and Gurux read what we write, and we write what Gurux writes ----


def test_dlms_cosem_parses_our_aare_and_rlre():
    from dlms_cosem import enumerations
    from dlms_cosem.protocol.acse import ApplicationAssociationResponse, ReleaseRequest, ReleaseResponse

    for vec in (LO_AARE, LO_AARE_AUTH, GB_AARE, GB_AARE_CONTEXT, GB_AARE_VERSION, GB_AARE_HLS):
        ours = encode(acse.decode_aare(vec))
        theirs = ApplicationAssociationResponse.from_bytes(ours)
        a = acse.decode_aare(ours)
        assert theirs.result == a.result
        assert int(theirs.result_source_diagnostics) == a.result_source_diagnostic
        ui = a.user_information
        if isinstance(ui, initiate.InitiateResponse):
            c = theirs.user_information.content
            assert c.server_max_receive_pdu_size == ui.server_max_receive_pdu_size
            assert c.negotiated_conformance.to_bytes()[1:] == ui.negotiated_conformance.to_bytes(3, "big")
        elif isinstance(ui, initiate.ConfirmedServiceError):
            assert theirs.user_information.content.error == enumerations.InitiateError.DLMS_VERSION_TOO_LOW
    hls = ApplicationAssociationResponse.from_bytes(encode(acse.decode_aare(GB_AARE_HLS)))
    assert hls.authentication == enumerations.AuthenticationMechanism.HLS_GMAC
    assert hls.authentication_value == b"P6wRJ21F"
    r = ReleaseResponse.from_bytes(encode(acse.decode_rlre(LO_RLRE)))
    assert r.reason == enumerations.ReleaseResponseReason.NORMAL
    assert r.user_information.content.server_max_receive_pdu_size == 0xFFFF
    q = ReleaseRequest.from_bytes(encode(acse.Rlrq(reason=acse.RELEASE_NORMAL, user_information=initiate.InitiateRequest())))
    assert q.reason == enumerations.ReleaseRequestReason.NORMAL


def test_dlms_cosem_encodes_what_we_encode():
    from dlms_cosem import enumerations
    from dlms_cosem.protocol import xdlms
    from dlms_cosem.protocol.acse import ApplicationAssociationRequest, ApplicationAssociationResponse, UserInformation

    conf = xdlms.Conformance(general_block_transfer=True, get=True, set=True, action=True, selective_access=True)
    theirs = ApplicationAssociationRequest(
        user_information=UserInformation(xdlms.InitiateRequest(proposed_conformance=conf, client_max_receive_pdu_size=0x400)),
        authentication=enumerations.AuthenticationMechanism.LLS,
        authentication_value=b"HELLO",
        system_title=b"ABCDEFGH",
    ).to_bytes()
    ours = acse.Aarq(
        calling_ap_title=b"ABCDEFGH",
        sender_acse_requirements=True,
        mechanism_name=acse.MECHANISM_LOW,
        calling_authentication_value=b"HELLO",
        user_information=initiate.InitiateRequest(
            proposed_conformance=initiate.GENERAL_BLOCK_TRANSFER | initiate.GET | initiate.SET | initiate.ACTION | initiate.SELECTIVE_ACCESS,
            client_max_receive_pdu_size=0x400,
        ),
    )
    assert encode(ours) == theirs
    theirs = ApplicationAssociationResponse(
        result=enumerations.AssociationResult.REJECTED_PERMANENT,
        result_source_diagnostics=enumerations.AcseServiceUserDiagnostics.AUTHENTICATION_FAILED,
        user_information=UserInformation(xdlms.InitiateResponse(negotiated_conformance=conf, server_max_receive_pdu_size=0x200)),
    ).to_bytes()
    d = acse.decode_aare(theirs)
    assert encode(d) == theirs and d.result_source_diagnostic == 13


def _gurux_client(auth, password):
    from gurux_dlms.enums import Authentication, InterfaceType
    from gurux_dlms.GXDLMSClient import GXDLMSClient

    return GXDLMSClient(True, 0x20, 1, Authentication.LOW if auth else Authentication.NONE, password, InterfaceType.WRAPPER)


def _reverse24(v):
    return int("{:024b}".format(v)[::-1], 2)


@FUZZ
@given(
    low=st.booleans(),
    password=st.binary(min_size=1, max_size=100),
    conformance=st.integers(0, 0xFFFFFF),
    pdu=st.integers(0, 0xFFFF),
)
def test_fuzz_aarq_matches_gurux(low, password, conformance, pdu):
    c = _gurux_client(low, password if low else None)
    c.proposedConformance = _reverse24(conformance)
    c.maxReceivePDUSize = pdu
    frame = bytes(c.aarqRequest()[0])
    a = acse.Aarq(user_information=initiate.InitiateRequest(proposed_conformance=conformance, client_max_receive_pdu_size=pdu))
    if low:
        a.sender_acse_requirements = True
        a.mechanism_name = acse.MECHANISM_LOW
        a.calling_authentication_value = password
    assert encode(a) == frame[8:]


def test_gurux_client_parses_our_aare():
    from gurux_dlms import GXByteBuffer
    from gurux_dlms.GXDLMSException import GXDLMSException

    c = _gurux_client(True, b"HELLO")
    c.aarqRequest()
    c.parseAareResponse(GXByteBuffer(encode(acse.decode_aare(LO_AARE))))
    assert c.maxReceivePDUSize == 0xFFFF and _reverse24(int(c.negotiatedConformance)) == 0x00121D
    for vec in (LO_AARE_AUTH, HDLC_AARE_NO_UI):
        c = _gurux_client(True, b"HELLO")
        c.aarqRequest()
        with pytest.raises(GXDLMSException) as e:
            c.parseAareResponse(GXByteBuffer(encode(acse.decode_aare(vec))))
        assert int(e.value.diagnostic) == 13


# ---- hypothesis: garbage only ever raises BerError ----

DECODERS = (acse.decode, acse.decode_aarq, acse.decode_aare, acse.decode_rlrq, acse.decode_rlre)


def _decode_or_ber_error(b):
    for f in DECODERS:
        try:
            o = f(memoryview(b))
        except BerError:
            continue
        # whatever decodes re-encodes (or refuses with BerError) and decodes to the same thing
        try:
            again = encode(o, size=4096)
        except BerError:
            continue
        assert snapshot(f(again)) == snapshot(o)
    for f in (initiate.decode_initiate_request, initiate.decode_initiate_response, initiate.decode_confirmed_service_error):
        try:
            f(memoryview(b), 0, len(b))
        except BerError:
            pass


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(b):
    _decode_or_ber_error(b)


@FUZZ
@given(st.sampled_from(sorted(VALID)), st.binary(max_size=40))
def test_fuzz_random_bytes_after_a_valid_head(name, tail):
    b = VALID[name]
    _decode_or_ber_error(b[:2] + tail)
    _decode_or_ber_error(b[:-2] + tail)


def test_every_truncation_raises():
    for b in VALID_LIST + [LO_RLRE_MALFORMED]:
        for n in range(len(b)):
            with pytest.raises(BerError):
                acse.decode(b[:n])


@FUZZ
@given(st.sampled_from(sorted(VALID)), st.integers(0, 10**6), st.integers(0, 255))
def test_fuzz_single_byte_mutations(name, where, value):
    b = bytearray(VALID[name])
    b[where % len(b)] = value
    _decode_or_ber_error(bytes(b))


@FUZZ
@given(st.sampled_from(sorted(VALID)), st.integers(0, 10**6), st.integers(1, 8))
def test_fuzz_deletions_and_insertions(name, where, n):
    b = VALID[name]
    i = where % len(b)
    _decode_or_ber_error(b[:i] + b[i + n :])
    _decode_or_ber_error(b[:i] + bytes([0x80 | n]) * n + b[i:])


# ---- hypothesis: round trips of generated field values ----

ints32 = st.integers(-(2**31), 2**31 - 1)
octets = st.binary(max_size=300)
opt = st.none().__or__

initiate_requests = st.builds(
    initiate.InitiateRequest,
    dedicated_key=opt(st.binary(max_size=127)),
    response_allowed=st.booleans(),
    proposed_quality_of_service=opt(st.integers(-128, 127)),
    proposed_dlms_version_number=st.integers(0, 255),
    proposed_conformance=st.integers(0, 0xFFFFFF),
    client_max_receive_pdu_size=st.integers(0, 0xFFFF),
)
initiate_responses = st.builds(
    initiate.InitiateResponse,
    negotiated_quality_of_service=opt(st.integers(-128, 127)),
    negotiated_dlms_version_number=st.integers(0, 255),
    negotiated_conformance=st.integers(0, 0xFFFFFF),
    server_max_receive_pdu_size=st.integers(0, 0xFFFF),
    vaa_name=st.integers(0, 0xFFFF),
)
service_errors = st.builds(initiate.ConfirmedServiceError, st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))


def ciphered(tags):
    return st.builds(lambda t, rest: bytes([t]) + rest, st.sampled_from(list(tags)), st.binary(max_size=300))


@st.composite
def user_info(draw, plain, tags):
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return {}
    if kind == 1:
        return {"user_information": draw(plain)}
    return {"ciphered_user_information": draw(ciphered(tags))}


@st.composite
def auth(draw, name):
    v = draw(opt(octets))
    return {name: v, "authentication_value_bitstring": v is not None and draw(st.booleans())}


@st.composite
def aarqs(draw):
    kw = draw(
        st.fixed_dictionaries(
            {
                "protocol_version": opt(st.integers(0, 255)),
                "application_context_name": st.integers(0, 127),
                "called_ap_title": opt(octets),
                "called_ae_qualifier": opt(octets),
                "called_ap_invocation_id": opt(ints32),
                "called_ae_invocation_id": opt(ints32),
                "calling_ap_title": opt(octets),
                "calling_ae_qualifier": opt(octets),
                "calling_ap_invocation_id": opt(ints32),
                "calling_ae_invocation_id": opt(ints32),
                "sender_acse_requirements": st.booleans(),
                "mechanism_name": opt(st.integers(0, 127)),
                "implementation_information": opt(octets),
            }
        )
    )
    kw.update(draw(auth("calling_authentication_value")))
    kw.update(draw(user_info(initiate_requests, b"\x21\x41\xdb\xdc\xdd")))
    return acse.Aarq(**kw)


@st.composite
def aares(draw):
    kw = draw(
        st.fixed_dictionaries(
            {
                "protocol_version": opt(st.integers(0, 255)),
                "application_context_name": st.integers(0, 127),
                "result": st.one_of(st.integers(0, 2), ints32),
                "diagnostic_source": st.sampled_from([acse.SOURCE_USER, acse.SOURCE_PROVIDER]),
                "result_source_diagnostic": st.one_of(st.integers(0, 14), ints32),
                "responding_ap_title": opt(octets),
                "responding_ae_qualifier": opt(octets),
                "responding_ap_invocation_id": opt(ints32),
                "responding_ae_invocation_id": opt(ints32),
                "responder_acse_requirements": st.booleans(),
                "mechanism_name": opt(st.integers(0, 127)),
                "implementation_information": opt(octets),
            }
        )
    )
    kw.update(draw(auth("responding_authentication_value")))
    kw.update(draw(user_info(st.one_of(initiate_responses, service_errors), b"\x28\x2e\x48\x4e\xdb\xdc\xdd")))
    return acse.Aare(**kw)


@st.composite
def rlrqs(draw):
    kw = {"reason": draw(opt(ints32))}
    kw.update(draw(user_info(initiate_requests, b"\x21\x41\xdb\xdc\xdd")))
    return acse.Rlrq(**kw)


@st.composite
def rlres(draw):
    kw = {"reason": draw(opt(ints32))}
    kw.update(draw(user_info(initiate_responses, b"\x28\x48\xdb")))
    return acse.Rlre(**kw)


def _roundtrip(apdu, pos, decoder):
    buf = bytearray(8192)
    n = apdu.encode(buf, pos)
    b = bytes(buf[pos:n])
    d = decoder(memoryview(buf)[pos:n])
    assert snapshot(d) == snapshot(apdu)
    assert snapshot(acse.decode(b)) == snapshot(apdu)
    assert encode(d, size=8192) == b
    return b


@FUZZ
@given(aarqs(), st.integers(0, 20))
def test_fuzz_aarq_roundtrip(a, pos):
    _roundtrip(a, pos, acse.decode_aarq)


@FUZZ
@given(aares(), st.integers(0, 20))
def test_fuzz_aare_roundtrip(a, pos):
    _roundtrip(a, pos, acse.decode_aare)


@st.composite
def cosem_readable_aares(draw):
    """The AAREs dlms-cosem can read: LN contexts, known enum values, short lengths, InitiateResponse or none."""
    src = draw(st.sampled_from([acse.SOURCE_USER, acse.SOURCE_PROVIDER]))
    return acse.Aare(
        application_context_name=draw(st.sampled_from([acse.CONTEXT_LN, acse.CONTEXT_LN_CIPHERED])),
        result=draw(st.integers(0, 2)),
        diagnostic_source=src,
        result_source_diagnostic=draw(st.integers(0, 14 if src == acse.SOURCE_USER else 2)),
        responding_ap_title=draw(opt(st.binary(min_size=1, max_size=16))),
        responding_ae_qualifier=draw(opt(st.binary(min_size=1, max_size=16))),
        responder_acse_requirements=draw(st.booleans()),
        mechanism_name=draw(opt(st.integers(0, 7))),
        responding_authentication_value=draw(opt(st.binary(max_size=16))),
        user_information=draw(opt(initiate_responses.map(lambda r: (setattr(r, "vaa_name", 7), r)[1]))),
    )


@FUZZ
@given(cosem_readable_aares())
def test_fuzz_dlms_cosem_parses_our_aare(a):
    from dlms_cosem.protocol.acse import ApplicationAssociationResponse

    b = encode(a)
    t = ApplicationAssociationResponse.from_bytes(b)
    assert int(t.result) == a.result and int(t.result_source_diagnostics) == a.result_source_diagnostic
    assert t.ciphered == (a.application_context_name == acse.CONTEXT_LN_CIPHERED)
    assert t.system_title == a.responding_ap_title and t.public_cert == a.responding_ae_qualifier
    if a.responder_acse_requirements and a.mechanism_name is not None:
        assert int(t.authentication) == a.mechanism_name
    else:
        assert t.authentication is None
    assert t.authentication_value == a.responding_authentication_value
    r = a.user_information
    if r is None:
        assert t.user_information is None
    else:
        c = t.user_information.content
        assert c.server_max_receive_pdu_size == r.server_max_receive_pdu_size
        assert c.negotiated_dlms_version_number == r.negotiated_dlms_version_number
        # dlms-cosem has no flags for the reserved and SN-only bits, so it drops those
        known = sum(1 << p for p in type(c.negotiated_conformance).conformance_bit_position.values())
        assert int.from_bytes(c.negotiated_conformance.to_bytes(), "big") == r.negotiated_conformance & known


@FUZZ
@given(rlrqs(), st.integers(0, 20))
def test_fuzz_rlrq_roundtrip(a, pos):
    _roundtrip(a, pos, acse.decode_rlrq)


@FUZZ
@given(rlres(), st.integers(0, 20))
def test_fuzz_rlre_roundtrip(a, pos):
    _roundtrip(a, pos, acse.decode_rlre)


def test_constructor_rejects_unknown_fields():
    with pytest.raises(TypeError):
        acse.Aarq(pasword=b"x")
    with pytest.raises(TypeError):
        initiate.InitiateRequest(conformance=1)
