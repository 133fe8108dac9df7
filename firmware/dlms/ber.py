"""Minimal BER TLV reading and writing (ITU-T X.690 definite lengths) for the ACSE APDUs of IEC 62056-5-3."""
from firmware.compat import const

# Tags are ints made of their identifier octets, so 0x5F1F is [APPLICATION 31].
# Three identifier octets and three length octets are far more than any ACSE
# APDU uses; anything longer is refused rather than parsed.
_MAX_TAG_OCTETS = const(3)
_MAX_LEN_OCTETS = const(3)


class BerError(ValueError):
    """Bad BER/ACSE/xDLMS input (truncated, wrong tag, bad or oversize length,
    trailing bytes), a value that cannot be encoded, or a full buffer.
    The only error the decoders of ber, acse and initiate raise."""


# ---- reading: every reader takes (b, pos, end) and never looks past end ----


def read_tag(b, pos, end):
    if pos >= end:
        raise BerError("truncated tag")
    t = b[pos]
    pos += 1
    if t & 0x1F == 0x1F:
        n = 1
        while True:
            if pos >= end:
                raise BerError("truncated tag")
            if n >= _MAX_TAG_OCTETS:
                raise BerError("tag too long")
            c = b[pos]
            pos += 1
            n += 1
            t = (t << 8) | c
            if not c & 0x80:
                break
    return t, pos


def read_len(b, pos, end):
    """Definite length; returns (n, pos of the contents). The contents must fit before end."""
    if pos >= end:
        raise BerError("truncated length")
    n = b[pos]
    pos += 1
    if n & 0x80:
        k = n & 0x7F
        # k == 0 is the indefinite form, which DLMS never uses.
        if k == 0 or k > _MAX_LEN_OCTETS:
            raise BerError("unsupported length form")
        if k > end - pos:
            raise BerError("truncated length")
        n = 0
        for i in range(k):
            n = (n << 8) | b[pos + i]
        pos += k
    if n > end - pos:
        raise BerError("length beyond buffer")
    return n, pos


def read_tlv(b, pos, end):
    """One TLV at pos: (tag, start, stop) with the contents in b[start:stop]; stop is the next TLV."""
    t, pos = read_tag(b, pos, end)
    n, pos = read_len(b, pos, end)
    return t, pos, pos + n


def expect(b, pos, end, tag):
    t, start, stop = read_tlv(b, pos, end)
    if t != tag:
        raise BerError("tag %X, expected %X" % (t, tag))
    return start, stop


def expect_only(b, pos, end, tag):
    """The single TLV that fills b[pos:end] exactly, as an EXPLICIT tag wraps one value."""
    start, stop = expect(b, pos, end, tag)
    if stop != end:
        raise BerError("trailing bytes")
    return start, stop


def read_int(b, start, stop):
    """INTEGER contents, two's complement, 1..4 octets."""
    n = stop - start
    if n < 1 or n > 4:
        raise BerError("integer size")
    v = 0
    for i in range(start, stop):
        v = (v << 8) | b[i]
    if b[start] & 0x80:
        v -= 1 << (8 * n)
    return v


# ---- writing: every writer takes (buf, pos, ...) and returns the new pos ----
# buf is a preallocated bytearray or memoryview; nothing is written past its
# end (a bytearray would silently grow instead, which a fixed buffer must not).


def room(buf, pos, n):
    if pos + n > len(buf):
        raise BerError("buffer full")


def put(buf, pos, data):
    n = len(data)
    room(buf, pos, n)
    buf[pos : pos + n] = data
    return pos + n


def put_u8(buf, pos, v):
    room(buf, pos, 1)
    buf[pos] = v
    return pos + 1


def put_tag(buf, pos, tag):
    if tag > 0xFFFF:
        pos = put_u8(buf, pos, tag >> 16)
    if tag > 0xFF:
        pos = put_u8(buf, pos, (tag >> 8) & 0xFF)
    return put_u8(buf, pos, tag & 0xFF)


def put_len(buf, pos, n):
    if n < 0x80:
        return put_u8(buf, pos, n)
    k = 1 if n < 0x100 else 2 if n < 0x10000 else 3
    if n >= 0x1000000:
        raise BerError("length too big")
    pos = put_u8(buf, pos, 0x80 | k)
    for i in range(k - 1, -1, -1):
        pos = put_u8(buf, pos, (n >> (8 * i)) & 0xFF)
    return pos


def put_tlv(buf, pos, tag, data):
    pos = put_tag(buf, pos, tag)
    pos = put_len(buf, pos, len(data))
    return put(buf, pos, data)


def begin(buf, pos, tag):
    """Open a TLV whose length is not known yet: returns where its contents start."""
    pos = put_tag(buf, pos, tag)
    return put_u8(buf, pos, 0)


def end(buf, start, pos):
    """Close the TLV opened by begin(); moves the contents up when the length needs the long form."""
    n = pos - start
    if n < 0x80:
        buf[start - 1] = n
        return pos
    k = 1 if n < 0x100 else 2 if n < 0x10000 else 3
    if n >= 0x1000000:
        raise BerError("length too big")
    room(buf, pos, k)
    # Overlapping copy: both runtimes move memoryview and bytearray slices as memmove does.
    buf[start + k : pos + k] = buf[start:pos]
    put_len(buf, start - 1, n)
    return pos + k


def put_int(buf, pos, tag, v):
    """INTEGER (or an IMPLICIT INTEGER under tag) in the fewest octets."""
    n = 1
    while not -(1 << (8 * n - 1)) <= v < (1 << (8 * n - 1)):
        n += 1
        if n > 4:
            raise BerError("integer too big")
    pos = put_tag(buf, pos, tag)
    pos = put_u8(buf, pos, n)
    for i in range(n - 1, -1, -1):
        pos = put_u8(buf, pos, (v >> (8 * i)) & 0xFF)
    return pos
