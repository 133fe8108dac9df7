"""A-XDR codec for COSEM Data (IEC 62056-6-2 common data types; A-XDR rules of IEC 61334-6 as the Green Book applies them)."""
import struct

from firmware.compat import const

# Writer and Reader work at the level of the wire: raw integers, lengths
# and one typed method per data type, writing straight into the reply buffer
# and reading requests in place. The generic value model (tagged tuples,
# decode/encode) and compact-array contents live in axdr_value, loaded on
# first use (Reader.data(), a compact array met by skip()), so a device that
# never needs them keeps the RAM.
#
# Decoding is bounded so that any input costs memory and time in proportion
# to its length: nesting deeper than max_depth or a count larger than the
# octets left is an AxdrError before any object is built.

NULL_DATA = const(0)
ARRAY = const(1)
STRUCTURE = const(2)
BOOLEAN = const(3)
BIT_STRING = const(4)
DOUBLE_LONG = const(5)
DOUBLE_LONG_UNSIGNED = const(6)
OCTET_STRING = const(9)
VISIBLE_STRING = const(10)
UTF8_STRING = const(12)
BCD = const(13)
INTEGER = const(15)
LONG = const(16)
UNSIGNED = const(17)
LONG_UNSIGNED = const(18)
COMPACT_ARRAY = const(19)
LONG64 = const(20)
LONG64_UNSIGNED = const(21)
ENUM = const(22)
FLOAT32 = const(23)
FLOAT64 = const(24)
DATE_TIME = const(25)
DATE = const(26)
TIME = const(27)
DELTA_INTEGER = const(28)
DELTA_LONG = const(29)
DELTA_DOUBLE_LONG = const(30)
DELTA_UNSIGNED = const(31)
DELTA_LONG_UNSIGNED = const(32)
DELTA_DOUBLE_LONG_UNSIGNED = const(33)
DONT_CARE = const(255)

# One octet per tag 0..33: kind << 4 | size of the fixed-size encoding.
_K_BAD = const(0)
_K_NULL = const(1)
_K_LIST = const(2)
_K_BOOL = const(3)
_K_BITS = const(4)
_K_SINT = const(5)
_K_UINT = const(6)
_K_OCTETS = const(7)
_K_UTF8 = const(8)
_K_COMPACT = const(9)
_K_FLOAT = const(10)
_K_FIXED = const(11)

_S1 = const(0x51)
_S2 = const(0x52)
_S4 = const(0x54)
_S8 = const(0x58)
_U1 = const(0x61)
_U2 = const(0x62)
_U4 = const(0x64)
_U8 = const(0x68)
_NULL = const(0x10)
_LIST = const(0x20)

# fmt: off
_TYPE = bytes((
    _NULL,      # 0 null-data
    _LIST,      # 1 array
    _LIST,      # 2 structure
    0x31,       # 3 boolean
    0x40,       # 4 bit-string
    _S4,        # 5 double-long
    _U4,        # 6 double-long-unsigned
    0, 0,       # 7 floating-point (withdrawn), 8 unassigned
    0x70,       # 9 octet-string
    0x70,       # 10 visible-string
    0,          # 11 unassigned
    0x80,       # 12 utf8-string
    _U1,        # 13 bcd
    0,          # 14 unassigned
    _S1,        # 15 integer
    _S2,        # 16 long
    _U1,        # 17 unsigned
    _U2,        # 18 long-unsigned
    0x90,       # 19 compact-array
    _S8,        # 20 long64
    _U8,        # 21 long64-unsigned
    _U1,        # 22 enum
    0xA4,       # 23 float32
    0xA8,       # 24 float64
    0xBC,       # 25 date-time
    0xB5,       # 26 date
    0xB4,       # 27 time
    _S1, _S2, _S4,  # 28..30 delta-integer, delta-long, delta-double-long
    _U1, _U2, _U4,  # 31..33 delta-unsigned, delta-long-unsigned, delta-double-long-unsigned
))
# fmt: on

_SFMT = (None, ">b", ">h", None, ">i", None, None, None, ">q")
_UFMT = (None, ">B", ">H", None, ">I", None, None, None, ">Q")
_FLT_MAX = 3.4028234663852886e38
_INF = float("inf")


class AxdrError(ValueError):
    pass


class BufferFull(Exception):
    pass


def _info(tag):
    if 0 <= tag < 34:
        return _TYPE[tag]
    return _NULL if tag == DONT_CARE else 0


def _utf8_ok(b, i, e):
    # Strict RFC 3629: MicroPython's own decoder lets overlongs and surrogates through.
    while i < e:
        c = b[i]
        i += 1
        if c < 0x80:
            continue
        lo = 0x80
        hi = 0xBF
        if 0xC2 <= c <= 0xDF:
            n = 1
        elif c == 0xE0:
            n = 2
            lo = 0xA0
        elif c == 0xED:
            n = 2
            hi = 0x9F
        elif 0xE1 <= c <= 0xEF:
            n = 2
        elif c == 0xF0:
            n = 3
            lo = 0x90
        elif 0xF1 <= c <= 0xF3:
            n = 3
        elif c == 0xF4:
            n = 3
            hi = 0x8F
        else:
            return False
        if i + n > e:
            return False
        c = b[i]
        if c < lo or c > hi:
            return False
        for j in range(i + 1, i + n):
            if b[j] & 0xC0 != 0x80:
                return False
        i += n
    return True


def _lensize(n):
    return 1 if n < 0x80 else 2 if n < 0x100 else 3 if n < 0x10000 else 5


class Writer:
    """Encodes into a caller's preallocated buffer from pos up to end; BufferFull when it has no room."""

    def __init__(self, buf, pos=0, end=None):
        self.buf = buf
        self.pos = pos
        self.end = len(buf) if end is None else end

    def _room(self, n):
        p = self.pos
        if p + n > self.end:
            raise BufferFull()
        return p

    # A scalar writer checks its value and the room before it writes a byte,
    # so a ValueError or BufferFull leaves pos where it was (callers may count
    # only on the saved-pos rollback); tag < 0: untagged, for compact arrays.
    def _put(self, k, v, tag=-1):
        size = k & 15
        bits = size << 3
        if k >> 4 == _K_SINT:
            s = v >> (bits - 1)
            if s and s != -1:
                raise ValueError("out of range")
            fmt = _SFMT[size]
        else:
            if v < 0 or v >> bits:
                raise ValueError("out of range")
            fmt = _UFMT[size]
        p = self._room(size + 1 if tag >= 0 else size)
        if tag >= 0:
            self.buf[p] = tag
            p += 1
        struct.pack_into(fmt, self.buf, p, v)
        self.pos = p + size

    def _float(self, size, v, tag=-1):
        if size == 4 and _FLT_MAX < abs(v) < _INF:
            raise ValueError("out of range")
        p = self._room(size + 1 if tag >= 0 else size)
        if tag >= 0:
            self.buf[p] = tag
            p += 1
        struct.pack_into(">f" if size == 4 else ">d", self.buf, p, v)
        self.pos = p + size

    def _var(self, data, n, tag=-1):
        # length n (octets, or bits for a bit-string), then data
        if n < 0 or n >> 32:
            raise ValueError("length")
        m = len(data)
        p = self._room(m + _lensize(n) + (1 if tag >= 0 else 0))
        if tag >= 0:
            self.buf[p] = tag
            self.pos = p + 1
        self.length(n)
        self.raw(data)

    def _fixed(self, size, data, tag=-1):
        if len(data) != size:
            raise ValueError("size")
        p = self._room(size + 1 if tag >= 0 else size)
        if tag >= 0:
            self.buf[p] = tag
            self.pos = p + 1
        self.raw(data)

    def _bits(self, nbits, data, tag=-1):
        if nbits < 0 or len(data) != (nbits + 7) >> 3:
            raise ValueError("bit-string size")
        self._var(data, nbits, tag)

    def _utf8(self, s, tag=-1):
        if isinstance(s, str):
            s = s.encode()
        elif not _utf8_ok(s, 0, len(s)):
            raise ValueError("not UTF-8")
        self._var(s, len(s), tag)

    def _visible(self, s, tag=-1):
        if isinstance(s, str):
            s = s.encode()
        self._var(s, len(s), tag)

    def _bool(self, v, tag=-1):
        if tag >= 0:
            self.u8(tag)
        self.u8(1 if v else 0)

    # raw, untagged
    def u8(self, v):
        self._put(_U1, v)

    def u16(self, v):
        self._put(_U2, v)

    def u32(self, v):
        self._put(_U4, v)

    def u64(self, v):
        self._put(_U8, v)

    def i8(self, v):
        self._put(_S1, v)

    def i16(self, v):
        self._put(_S2, v)

    def i32(self, v):
        self._put(_S4, v)

    def i64(self, v):
        self._put(_S8, v)

    def raw(self, data):
        n = len(data)
        p = self._room(n)
        self.buf[p : p + n] = data
        self.pos = p + n

    def length(self, n):
        """A-XDR length: one octet below 0x80, else 0x81/0x82/0x84 and 1/2/4 octets."""
        if n < 0x80:
            self._put(_U1, n)
        elif n < 0x100:
            self._put(_U1, n, 0x81)
        elif n < 0x10000:
            self._put(_U2, n, 0x82)
        else:
            self._put(_U4, n, 0x84)

    # typed: one method per data type, tag included
    def null(self):
        self.u8(NULL_DATA)

    def dont_care(self):
        self.u8(DONT_CARE)

    def array(self, n):
        self._header(ARRAY, n)

    def structure(self, n):
        self._header(STRUCTURE, n)

    def _header(self, tag, n):
        if n < 0 or n >> 32:
            raise ValueError("count")
        self.u8(tag)
        self.length(n)

    def boolean(self, v):
        self._bool(v, BOOLEAN)

    def bit_string(self, nbits, data):
        self._bits(nbits, data, BIT_STRING)

    def double_long(self, v):
        self._put(_S4, v, DOUBLE_LONG)

    def double_long_unsigned(self, v):
        self._put(_U4, v, DOUBLE_LONG_UNSIGNED)

    def octet_string(self, data):
        self._var(data, len(data), OCTET_STRING)

    def visible_string(self, data):
        self._visible(data, VISIBLE_STRING)

    def utf8_string(self, s):
        self._utf8(s, UTF8_STRING)

    def bcd(self, v):
        self._put(_U1, v, BCD)

    def integer(self, v):
        self._put(_S1, v, INTEGER)

    def long(self, v):
        self._put(_S2, v, LONG)

    def unsigned(self, v):
        self._put(_U1, v, UNSIGNED)

    def long_unsigned(self, v):
        self._put(_U2, v, LONG_UNSIGNED)

    def long64(self, v):
        self._put(_S8, v, LONG64)

    def long64_unsigned(self, v):
        self._put(_U8, v, LONG64_UNSIGNED)

    def enum(self, v):
        self._put(_U1, v, ENUM)

    def float32(self, v):
        self._float(4, v, FLOAT32)

    def float64(self, v):
        self._float(8, v, FLOAT64)

    def date_time(self, data):
        self._fixed(12, data, DATE_TIME)

    def date(self, data):
        self._fixed(5, data, DATE)

    def time(self, data):
        self._fixed(4, data, TIME)

    def delta_integer(self, v):
        self._put(_S1, v, DELTA_INTEGER)

    def delta_long(self, v):
        self._put(_S2, v, DELTA_LONG)

    def delta_double_long(self, v):
        self._put(_S4, v, DELTA_DOUBLE_LONG)

    def delta_unsigned(self, v):
        self._put(_U1, v, DELTA_UNSIGNED)

    def delta_long_unsigned(self, v):
        self._put(_U2, v, DELTA_LONG_UNSIGNED)

    def delta_double_long_unsigned(self, v):
        self._put(_U4, v, DELTA_DOUBLE_LONG_UNSIGNED)

    def type_description(self, td):
        if isinstance(td, int):
            k = _info(td) >> 4
            if k == _K_BAD or k == _K_LIST or k == _K_COMPACT:
                raise ValueError("type description")
            self.u8(td)
        elif td[0] == ARRAY and len(td) == 3:
            self.u8(ARRAY)
            self.u16(td[1])
            self.type_description(td[2])
        elif td[0] == STRUCTURE and len(td) == 2:
            self._header(STRUCTURE, len(td[1]))
            for e in td[1]:
                self.type_description(e)
        else:
            raise ValueError("type description")

    def compact_array(self, td, nbytes):
        """Header of a compact-array whose contents, nbytes long, the caller writes untagged next."""
        if nbytes < 0 or nbytes >> 32:
            raise ValueError("length")
        self.u8(COMPACT_ARRAY)
        self.type_description(td)
        self.length(nbytes)


class Reader:
    """Decodes from a buffer between pos and end; every bad input is an AxdrError."""

    def __init__(self, buf, pos=0, end=None, max_depth=16):
        self.buf = memoryview(buf)
        self.pos = pos
        n = len(self.buf)
        self.end = n if end is None or end > n else end
        self.max_depth = max_depth

    def remaining(self):
        return self.end - self.pos

    def _take(self, n):
        p = self.pos
        if n > self.end - p:
            raise AxdrError("truncated")
        self.pos = p + n
        return p

    def u8(self):
        return self.buf[self._take(1)]

    def u16(self):
        p = self._take(2)
        return self.buf[p] << 8 | self.buf[p + 1]

    def u32(self):
        return struct.unpack_from(">I", self.buf, self._take(4))[0]

    def u64(self):
        return struct.unpack_from(">Q", self.buf, self._take(8))[0]

    def raw(self, n):
        """The next n octets as a memoryview of the buffer (no copy: copy it if the buffer is reused)."""
        p = self._take(n)
        return self.buf[p : p + n]

    def length(self):
        n = self.u8()
        if n < 0x80:
            return n
        n &= 0x7F
        if n == 0 or n > 4:
            raise AxdrError("bad length")
        v = 0
        for _ in range(n):
            v = v << 8 | self.u8()
        return v

    def _count(self):
        # Every element takes at least one octet, so a count past the end is a lie.
        n = self.length()
        if n > self.end - self.pos:
            raise AxdrError("count too large")
        return n

    def peek(self):
        if self.pos >= self.end:
            raise AxdrError("truncated")
        return self.buf[self.pos]

    def tag(self):
        return self.u8()

    def expect(self, tag):
        if self.u8() != tag:
            raise AxdrError("unexpected tag")

    def header(self, tag):
        """Expect ARRAY or STRUCTURE and return its element count."""
        self.expect(tag)
        return self._count()

    def value(self, tag):
        """Expect a simple (non-container) type and return its value."""
        self.expect(tag)
        return self._scalar(tag)

    def _scalar(self, t):
        k = _info(t)
        kind = k >> 4
        if kind == _K_SINT:
            return struct.unpack_from(_SFMT[k & 15], self.buf, self._take(k & 15))[0]
        if kind == _K_UINT:
            if k == _U1:
                return self.u8()
            return struct.unpack_from(_UFMT[k & 15], self.buf, self._take(k & 15))[0]
        if kind == _K_OCTETS:
            return bytes(self.raw(self.length()))
        if kind == _K_FIXED:
            return bytes(self.raw(k & 15))
        if kind == _K_NULL:
            return None
        if kind == _K_BOOL:
            return self.u8() != 0
        if kind == _K_BITS:
            n = self.length()
            return (n, bytes(self.raw((n + 7) >> 3)))
        if kind == _K_UTF8:
            n = self.length()
            p = self._take(n)
            if not _utf8_ok(self.buf, p, p + n):
                raise AxdrError("bad UTF-8")
            return str(bytes(self.buf[p : p + n]), "utf-8")
        if kind == _K_FLOAT:
            return struct.unpack_from(">f" if k & 15 == 4 else ">d", self.buf, self._take(k & 15))[0]
        raise AxdrError("bad tag")

    def data(self):
        """Decode one Data element into the tagged value model of axdr_value."""
        from firmware.dlms.axdr_value import decode

        return decode(self)

    def skip(self):
        """Step over one Data element, checking it as data() would, without building it: (start, end)."""
        start = self.pos
        self._skip(0)
        return start, self.pos

    def _skip(self, depth):
        t = self.u8()
        kind = _info(t) >> 4
        if kind == _K_LIST:
            if depth >= self.max_depth:
                raise AxdrError("too deep")
            for _ in range(self._count()):
                self._skip(depth + 1)
        elif kind == _K_COMPACT:
            from firmware.dlms.axdr_value import skip_compact

            skip_compact(self, depth)
        else:
            self._skip_scalar(t)

    def _skip_scalar(self, t):
        k = _info(t)
        kind = k >> 4
        if kind == _K_OCTETS:
            self._take(self.length())
        elif kind == _K_BITS:
            self._take((self.length() + 7) >> 3)
        elif kind == _K_UTF8:
            n = self.length()
            p = self._take(n)
            if not _utf8_ok(self.buf, p, p + n):
                raise AxdrError("bad UTF-8")
        elif kind == _K_BAD or kind == _K_LIST or kind == _K_COMPACT:
            raise AxdrError("bad tag")
        else:
            self._take(k & 15)
