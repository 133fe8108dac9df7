"""Table-driven CRC-16s; CRC-16/X.25 is the HDLC HCS/FCS of IEC 62056-46 (ISO/IEC 13239 FCS-16)."""
from array import array

# One 512-byte table per CRC kind, built once at import from its polynomial, so
# another CRC (EN 13757-4: poly 0x3D65 MSB-first, init 0, xorout 0xFFFF; the
# iM871A serial CRC, which is reflected 0x1021 like X.25) is a make_table() call
# or the X.25 table plus a three-line function here, never another table copy.


def make_table(poly, reflected):
    """256-entry array('H') for a 16-bit polynomial given in normal (MSB-first) notation."""
    if reflected:
        r = 0
        for i in range(16):
            if poly & (1 << i):
                r |= 1 << (15 - i)
        vals = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ r if c & 1 else c >> 1
            vals.append(c)
    else:
        vals = []
        for i in range(256):
            c = i << 8
            for _ in range(8):
                c = ((c << 1) ^ poly) & 0xFFFF if c & 0x8000 else (c << 1) & 0xFFFF
            vals.append(c)
    return array("H", vals)


def update_reflected(table, crc, data, start, end):
    """Runs a reflected (LSB-first) CRC over data[start:end] without copying it."""
    for i in range(start, end):
        crc = (crc >> 8) ^ table[(crc ^ data[i]) & 0xFF]
    return crc


def update_msb(table, crc, data, start, end):
    """Runs a non-reflected (MSB-first) CRC over data[start:end] without copying it."""
    for i in range(start, end):
        crc = ((crc << 8) & 0xFFFF) ^ table[((crc >> 8) ^ data[i]) & 0xFF]
    return crc


_X25 = make_table(0x1021, True)


def crc16_x25(data, start=0, end=None):
    """CRC-16/X.25 (init and xorout 0xFFFF) of data[start:end]; HDLC sends it LSB first."""
    if end is None:
        end = len(data)
    return update_reflected(_X25, 0xFFFF, data, start, end) ^ 0xFFFF
