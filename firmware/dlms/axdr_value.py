"""Generic A-XDR value model and compact-array contents (IEC 62056-6-2 common data types, Green Book A-XDR), on top of axdr."""
from firmware.compat import const
from firmware.dlms.axdr import ARRAY, STRUCTURE, VISIBLE_STRING, AxdrError, _info, _lensize

# Value model: decode(reader) returns, encode(writer, value) takes, a tagged
# tuple (tag, value) with tag one of axdr's constants:
#   NULL_DATA, DONT_CARE              None
#   ARRAY, STRUCTURE                  list of tagged values
#   BOOLEAN                           bool (decoded: any non-zero octet is True;
#                                     encoded as 0x01, as Gurux and dlms-cosem do)
#   BIT_STRING                        (nbits, bytes): bits MSB first, bytes holds
#                                     (nbits + 7) // 8 octets, padding bits kept
#   integer types, ENUM, BCD, DELTA_* int (BCD is one octet, Integer8 in the
#                                     ASN.1, carried as its raw value 0..255)
#   OCTET_STRING, VISIBLE_STRING      bytes (a str is accepted for visible-string)
#   UTF8_STRING                       str (bytes holding valid UTF-8 accepted)
#   FLOAT32, FLOAT64                  float
#   DATE_TIME, DATE, TIME             bytes of exactly 12, 5, 4 octets
#   COMPACT_ARRAY                     (td, rows): td a type description, rows a
#                                     list of untagged ("plain") values of type td
# A type description (td) is a simple tag (an int), (ARRAY, n, td) or
# (STRUCTURE, [td, ...]), as TypeDescription of the standard. The plain value
# of a simple td is the value above; of an array or structure td, a list of
# plain values. Compact-array contents are the plain encodings back to back,
# without tags; the number of rows follows from the length of array-contents.
#
# A type description can make much out of nothing (an array of 65535
# null-data costs no octet), so a compact array may cost at most _RATIO
# units per content octet plus _SLACK: one per value (leaf, array and
# structure alike) and one per description node under an empty array, which
# skip() still walks. decode(), skip() and encode() apply the same rule.

# This module is axdr's friend: it uses the Reader and Writer internals.
# Kinds as in axdr's _TYPE table (const names are private to each module).
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
_RATIO = const(4)
_SLACK = const(16)


def decode(r):
    """The tagged value of the next Data element of Reader r (also r.data())."""
    return _data(r, 0)


def _data(r, depth):
    t = r.u8()
    kind = _info(t) >> 4
    if kind == _K_LIST:
        if depth >= r.max_depth:
            raise AxdrError("too deep")
        n = r._count()
        out = []
        for _ in range(n):
            out.append(_data(r, depth + 1))
        return (t, out)
    if kind == _K_COMPACT:
        if depth >= r.max_depth:
            raise AxdrError("too deep")
        td = _td(r, depth + 1)
        end = _contents(r)
        saved = r.end
        r.end = end
        rows = []
        try:
            while r.pos < end:
                p = r.pos
                rows.append(_plain(r, td))
                if r.pos == p:
                    raise AxdrError("empty compact-array element")
        finally:
            r.end = saved
        return (t, (td, rows))
    return (t, r._scalar(t))


def _contents(r):
    n = r.length()
    if n > r.end - r.pos:
        raise AxdrError("truncated")
    r._budget = _RATIO * n + _SLACK
    return r.pos + n


def _charge(r):
    r._budget -= 1
    if r._budget < 0:
        raise AxdrError("compact-array too dense")


def _td(r, depth):
    t = r.u8()
    kind = _info(t) >> 4
    if kind == _K_LIST:
        if depth >= r.max_depth:
            raise AxdrError("too deep")
        if t == ARRAY:
            n = r.u16()
            return (ARRAY, n, _td(r, depth + 1))
        n = r._count()
        out = []
        for _ in range(n):
            out.append(_td(r, depth + 1))
        return (STRUCTURE, out)
    if kind == 0 or kind == _K_COMPACT:
        raise AxdrError("bad type description")
    return t


def decode_plain(r, td):
    """One untagged value of type description td from Reader r (compact-array contents)."""
    r._budget = _RATIO * (r.end - r.pos) + _SLACK
    return _plain(r, td)


def _plain(r, td):
    _charge(r)
    if isinstance(td, int):
        return r._scalar(td)
    out = []
    if td[0] == ARRAY:
        e = td[2]
        if td[1] == 0:
            _dry(r, e)  # skip() walks the unused description: charge that the same
        for _ in range(td[1]):
            out.append(_plain(r, e))
    else:
        for e in td[1]:
            out.append(_plain(r, e))
    return out


def _dry(r, td):
    _charge(r)
    if isinstance(td, int):
        return
    if td[0] == ARRAY:
        _dry(r, td[2])
    else:
        for e in td[1]:
            _dry(r, e)


def skip_compact(r, depth):
    # Reader.skip() of a compact array, its tag read: checks what decode()
    # would, reading the type description in place for every row.
    if depth >= r.max_depth:
        raise AxdrError("too deep")
    q = r.pos
    _skip_td(r, depth + 1)
    end = _contents(r)
    saved = r.end
    r.end = end
    try:
        while r.pos < end:
            p = r.pos
            _walk(r, q, False)
            if r.pos == p:
                raise AxdrError("empty compact-array element")
    finally:
        r.end = saved


def _skip_td(r, depth):
    t = r.u8()
    kind = _info(t) >> 4
    if kind == _K_LIST:
        if depth >= r.max_depth:
            raise AxdrError("too deep")
        if t == ARRAY:
            r._take(2)
            _skip_td(r, depth + 1)
        else:
            for _ in range(r._count()):
                _skip_td(r, depth + 1)
    elif kind == 0 or kind == _K_COMPACT:
        raise AxdrError("bad type description")


def _walk(r, q, dry):
    # Step over one plain value typed by the checked description at buffer
    # offset q; return the offset after the description. dry: description
    # only. Every node visited is charged, so the time is bounded as well.
    b = r.buf
    t = b[q]
    q += 1
    _charge(r)
    if t == ARRAY:
        n = b[q] << 8 | b[q + 1]
        q += 2
        if dry or n == 0:
            return _walk(r, q, True)
        for _ in range(n):
            e = _walk(r, q, False)
        return e
    if t == STRUCTURE:
        n = b[q]
        q += 1
        if n >= 0x80:
            m = n & 0x7F
            n = 0
            for _ in range(m):
                n = n << 8 | b[q]
                q += 1
        for _ in range(n):
            q = _walk(r, q, dry)
        return q
    if not dry:
        r._skip_scalar(t)
    return q


def encode(w, value):
    """Write a tagged value with Writer w; the inverse of decode(). On an exception w.pos is unspecified."""
    tag, v = value
    kind = _info(tag) >> 4
    if kind == _K_LIST:
        w._header(tag, len(v))
        for e in v:
            encode(w, e)
    elif kind == _K_COMPACT:
        td, rows = v
        n = 0
        for e in rows:
            n += _psize(td, e)
        if rows and (n == 0 or len(rows) * _tdcount(td) > _RATIO * n + _SLACK):
            raise ValueError("compact-array rows too small to carry")
        w.compact_array(td, n)
        for e in rows:
            encode_plain(w, td, e)
    else:
        _scalar(w, tag, v, tag)


def encode_plain(w, td, v):
    """Write v untagged as type description td (compact-array contents)."""
    if isinstance(td, int):
        _scalar(w, td, v, -1)
        return
    if td[0] == ARRAY:
        if len(v) != td[1]:
            raise ValueError("array size")
        e = td[2]
        for x in v:
            encode_plain(w, e, x)
    else:
        if len(v) != len(td[1]):
            raise ValueError("structure size")
        for e, x in zip(td[1], v):
            encode_plain(w, e, x)


def _scalar(w, t, v, tag):
    k = _info(t)
    kind = k >> 4
    if kind == _K_SINT or kind == _K_UINT:
        w._put(k, v, tag)
    elif kind == _K_OCTETS:
        if t == VISIBLE_STRING:
            w._visible(v, tag)
        else:
            w._var(v, len(v), tag)
    elif kind == _K_FIXED:
        w._fixed(k & 15, v, tag)
    elif kind == _K_NULL:
        if v is not None:
            raise ValueError("null carries no value")
        if tag >= 0:
            w.u8(tag)
    elif kind == _K_BOOL:
        w._bool(v, tag)
    elif kind == _K_BITS:
        w._bits(v[0], v[1], tag)
    elif kind == _K_UTF8:
        w._utf8(v, tag)
    elif kind == _K_FLOAT:
        w._float(k & 15, v, tag)
    else:
        raise ValueError("bad tag")


def _psize(td, v):
    # Octets of the plain encoding: the contents length goes before them.
    if isinstance(td, int):
        k = _info(td)
        kind = k >> 4
        if kind == _K_OCTETS or kind == _K_UTF8:
            n = len(v.encode()) if isinstance(v, str) else len(v)
            return _lensize(n) + n
        if kind == _K_BITS:
            return _lensize(v[0]) + len(v[1])
        return k & 15
    n = 0
    if td[0] == ARRAY:
        for x in v:
            n += _psize(td[2], x)
    else:
        for e, x in zip(td[1], v):
            n += _psize(e, x)
    return n


def _tdcount(td, dry=False):
    # What decoding one plain element of td charges (see _plain, _dry, _walk).
    if isinstance(td, int):
        return 1
    if td[0] == ARRAY:
        if dry or td[1] == 0:
            return 1 + _tdcount(td[2], True)
        return 1 + td[1] * _tdcount(td[2])
    n = 1
    for e in td[1]:
        n += _tdcount(e, dry)
    return n
