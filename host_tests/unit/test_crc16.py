"""firmware/crc16.py: CRC-16/X.25 check value, the HDLC vectors' HCS/FCS, table builder, cross-checks."""
import os
from array import array

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.crc16 import crc16_x25, make_table, update_msb, update_reflected

FUZZ = settings(derandomize=True, max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")), deadline=None)

# spec/dlms-byte-examples.md 4.3: every frame carries an FCS (and an HCS when it has information).
FRAMES = [
    "7E A0 07 03 21 93 0F 01 7E",
    "7E A0 08 02 23 21 93 BD 64 7E",
    "7E A0 14 03 21 93 63 E7 81 80 08 05 02 01 00 06 02 01 00 56 96 7E",
    "7E A0 07 21 03 73 01 40 7E",
    "7E A0 07 03 21 53 03 C7 7E",
    "7E A0 19 03 21 10 7F DA E6 E6 00 C0 01 C1 00 08 00 00 01 00 00 FF 02 00 60 1A 7E",
]


def _bitwise(data, poly, init, xorout, reflected):
    # The textbook bit-at-a-time definition, to check the table-driven one against.
    crc = init
    for b in data:
        if reflected:
            crc ^= b
            for _ in range(8):
                crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        else:
            crc ^= b << 8
            for _ in range(8):
                crc = ((crc << 1) ^ poly) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc ^ xorout


def test_check_value():
    # CRC-16/X.25 (a.k.a. CRC-16/IBM-SDLC) catalogue check value.
    assert crc16_x25(b"123456789") == 0x906E
    assert crc16_x25(bytearray(b"123456789")) == 0x906E
    assert crc16_x25(memoryview(b"xx123456789yy"), 2, 11) == 0x906E
    assert crc16_x25(b"") == 0x0000


def test_hdlc_vectors_fcs_and_hcs():
    for h in FRAMES:
        f = bytes.fromhex(h)
        end = len(f) - 3
        assert crc16_x25(f, 1, end) == f[end] | f[end + 1] << 8, h
    # the I-frame's HCS covers format, addresses and control
    f = bytes.fromhex(FRAMES[-1])
    assert crc16_x25(f, 1, 6) == f[6] | f[7] << 8


def test_table_is_compact_array():
    t = make_table(0x1021, True)
    assert isinstance(t, array) and t.typecode == "H" and len(t) == 256
    assert t[1] == 0x1189 and t[128] == 0x8408  # reflected 0x1021 = 0x8408


def test_msb_first_engine_for_later_crcs():
    # What a later issue needs for EN 13757-4 (poly 0x3D65, init 0, xorout 0xFFFF,
    # catalogue check 0xC2B7 as CRC-16/EN-13757): the table path equals the bitwise one.
    t = make_table(0x3D65, False)
    data = b"123456789"
    assert update_msb(t, 0, data, 0, len(data)) ^ 0xFFFF == _bitwise(data, 0x3D65, 0, 0xFFFF, False)
    assert update_msb(t, 0, data, 0, len(data)) ^ 0xFFFF == 0xC2B7
    # CRC-16/XMODEM (poly 0x1021 MSB-first, init 0) check value 0x31C3
    assert update_msb(make_table(0x1021, False), 0, data, 0, 9) == 0x31C3


@FUZZ
@given(st.binary(max_size=300), st.data())
def test_fuzz_matches_bitwise_and_slices(data, d):
    assert crc16_x25(data) == _bitwise(data, 0x8408, 0xFFFF, 0xFFFF, True)
    start = d.draw(st.integers(0, len(data)))
    end = d.draw(st.integers(start, len(data)))
    assert crc16_x25(memoryview(data), start, end) == crc16_x25(data[start:end])
    t = make_table(0x1021, True)
    assert update_reflected(t, 0xFFFF, data, 0, len(data)) ^ 0xFFFF == crc16_x25(data)


@FUZZ
@given(st.binary(min_size=1, max_size=200))
def test_fuzz_matches_installed_clients(data):
    from dlms_cosem.crc import CRCCCITT
    from gurux_dlms._GXFCS16 import _GXFCS16

    ours = crc16_x25(data)
    # both return the two bytes in wire order (LSB first), as an int or bytes
    assert CRCCCITT().calculate_for(data) == bytes([ours & 0xFF, ours >> 8])
    assert _GXFCS16.countFCS16(bytearray(data), 0, len(data)) == ((ours & 0xFF) << 8 | ours >> 8)
