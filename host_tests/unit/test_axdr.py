"""A-XDR codec on CPython: the device-runtime suite again, Gurux as a second opinion, hypothesis round trips and garbage."""
import importlib.util
import math
import os
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware.dlms import axdr, axdr_value
from firmware.dlms.axdr import (
    ARRAY,
    BIT_STRING,
    BOOLEAN,
    COMPACT_ARRAY,
    DONT_CARE,
    FLOAT32,
    FLOAT64,
    NULL_DATA,
    OCTET_STRING,
    STRUCTURE,
    UTF8_STRING,
    VISIBLE_STRING,
    AxdrError,
    BufferFull,
    Reader,
    Writer,
)
from firmware.dlms.axdr_value import decode, encode

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("mp_test_axdr", os.path.join(HERE, "..", "mp", "test_axdr.py"))
mp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mp)

FUZZ = settings(
    derandomize=True,
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- the MicroPython suite, on CPython too ---------------------------------

@pytest.mark.parametrize("name", sorted(n for n in dir(mp) if n.startswith("test_")))
def test_device_suite_on_cpython(name):
    getattr(mp, name)()


def test_kind_constants_agree():
    # axdr_value repeats axdr's private kind numbers (MicroPython elides _const names from modules)
    for name in dir(axdr_value):
        if name.startswith("_K_"):
            assert getattr(axdr, name) == getattr(axdr_value, name), name


def test_tag_numbers():
    # Blue Book / Green Book Data CHOICE, as dlms-cosem and Gurux number them
    expected = dict(
        NULL_DATA=0, ARRAY=1, STRUCTURE=2, BOOLEAN=3, BIT_STRING=4, DOUBLE_LONG=5, DOUBLE_LONG_UNSIGNED=6,
        OCTET_STRING=9, VISIBLE_STRING=10, UTF8_STRING=12, BCD=13, INTEGER=15, LONG=16, UNSIGNED=17,
        LONG_UNSIGNED=18, COMPACT_ARRAY=19, LONG64=20, LONG64_UNSIGNED=21, ENUM=22, FLOAT32=23, FLOAT64=24,
        DATE_TIME=25, DATE=26, TIME=27, DELTA_INTEGER=28, DELTA_LONG=29, DELTA_DOUBLE_LONG=30,
        DELTA_UNSIGNED=31, DELTA_LONG_UNSIGNED=32, DELTA_DOUBLE_LONG_UNSIGNED=33, DONT_CARE=255,
    )
    for name, n in expected.items():
        assert getattr(axdr, name) == n, name
    from dlms_cosem import dlms_data

    for cls, n in ((dlms_data.CompactArrayData, 19), (dlms_data.BCDData, 13), (dlms_data.TimeData, 27), (dlms_data.DontCareData, 255)):
        assert cls.TAG == n


# --- Gurux's parser as an independent reading of the same bytes -----------

def _gurux(b):
    from gurux_dlms.GXByteBuffer import GXByteBuffer
    from gurux_dlms.GXDLMSSettings import GXDLMSSettings
    from gurux_dlms.internal._GXCommon import _GXCommon
    from gurux_dlms.internal._GXDataInfo import _GXDataInfo

    bb = GXByteBuffer(bytearray(b))
    info = _GXDataInfo()
    v = _GXCommon.getData(GXDLMSSettings(True, None), bb, info)
    assert info.complete
    return v, bb.position


def _like_gurux(value):
    # What Gurux returns for our value, for the types where that is a plain Python object.
    tag, v = value
    if tag in (ARRAY, STRUCTURE):
        return [_like_gurux(e) for e in v]
    if tag == OCTET_STRING:
        return bytearray(v)
    if tag == VISIBLE_STRING:
        return v.decode("latin-1")
    if tag == COMPACT_ARRAY:
        return v[1]
    if isinstance(v, (int, type(None))) or tag == FLOAT64:
        return v
    return Ellipsis  # date-time objects, bit-strings, utf8 shown as hex: length only


def _agrees(a, b):
    if b is Ellipsis:
        return True
    if isinstance(b, list):
        return isinstance(a, list) and len(a) == len(b) and all(_agrees(x, y) for x, y in zip(a, b))
    if isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b


def _gurux_can_read(value):
    tag, v = value
    if tag >= 28 or tag in (UTF8_STRING, BOOLEAN):
        return False  # no delta types in Gurux; utf8 comes back as hex text, booleans as ints
    if tag == COMPACT_ARRAY:
        # Gurux refuses an array description at the top and reads only simple columns
        td = v[0]
        if isinstance(td, int):
            return td not in (UTF8_STRING, BOOLEAN)
        return td[0] == STRUCTURE and all(isinstance(e, int) and e in (5, 6, 9, 15, 16, 17, 18) for e in td[1])
    return True


_GURUX_CASES = [mp.h(v) for v in mp.VECTORS] + [mp.enc(v) for v in mp.SAMPLES if _gurux_can_read(v)]


@pytest.mark.parametrize("b", _GURUX_CASES, ids=lambda b: b[:12].hex())
def test_gurux_reads_the_same(b):
    value = decode(Reader(b))
    g, used = _gurux(b)
    assert used == len(b)
    assert _agrees(g, _like_gurux(value)), (g, value)


# --- hypothesis ----------------------------------------------------------------

INT_RANGES = {
    5: (-(1 << 31), (1 << 31) - 1), 6: (0, (1 << 32) - 1), 13: (0, 255), 15: (-128, 127), 16: (-32768, 32767),
    17: (0, 255), 18: (0, 65535), 20: (-(1 << 63), (1 << 63) - 1), 21: (0, (1 << 64) - 1), 22: (0, 255),
    28: (-128, 127), 29: (-32768, 32767), 30: (-(1 << 31), (1 << 31) - 1), 31: (0, 255), 32: (0, 65535),
    33: (0, (1 << 32) - 1),
}
FIXED = {25: 12, 26: 5, 27: 4}
SIMPLE_TAGS = sorted(set(INT_RANGES) | set(FIXED) | {0, 3, 4, 9, 10, 12, 23, 24, 255})


def _bits():
    return st.integers(0, 70).flatmap(lambda n: st.binary(min_size=(n + 7) // 8, max_size=(n + 7) // 8).map(lambda b: (n, b)))


def plain_of(t):
    """Strategy for the plain value of a simple type or a type description."""
    if isinstance(t, tuple):
        if t[0] == ARRAY:
            return st.lists(plain_of(t[2]), min_size=t[1], max_size=t[1])
        return st.tuples(*[plain_of(e) for e in t[1]]).map(list)
    if t in INT_RANGES:
        return st.integers(*INT_RANGES[t])
    if t in FIXED:
        return st.binary(min_size=FIXED[t], max_size=FIXED[t])
    if t in (NULL_DATA, DONT_CARE):
        return st.none()
    if t == BOOLEAN:
        return st.booleans()
    if t == BIT_STRING:
        return _bits()
    if t in (OCTET_STRING, VISIBLE_STRING):
        return st.one_of(st.binary(max_size=20), st.binary(min_size=120, max_size=300))
    if t == UTF8_STRING:
        return st.text(max_size=30)
    if t == FLOAT32:
        return st.floats(width=32)
    return st.floats()


scalars = st.sampled_from(SIMPLE_TAGS).flatmap(lambda t: plain_of(t).map(lambda v: (t, v)))
type_descriptions = st.recursive(
    st.sampled_from(SIMPLE_TAGS),
    lambda c: st.one_of(
        st.tuples(st.just(ARRAY), st.integers(0, 3), c),
        st.tuples(st.just(STRUCTURE), st.lists(c, min_size=1, max_size=4)),
    ),
    max_leaves=6,
)
compacts = type_descriptions.flatmap(lambda td: st.lists(plain_of(td), max_size=4).map(lambda rows: (COMPACT_ARRAY, (td, rows))))
values = st.recursive(
    st.one_of(scalars, scalars, scalars, compacts),
    lambda c: st.tuples(st.sampled_from([ARRAY, STRUCTURE]), st.lists(c, max_size=5)),
    max_leaves=12,
)


def _encode_or_none(value):
    """The encoding, or None when the value is a compact array the decoder would refuse as too dense."""
    try:
        return mp.enc(value, 1 << 16)
    except ValueError:
        assert _has_dense_compact(value), value
        return None


def _has_dense_compact(value):
    tag, v = value
    if tag in (ARRAY, STRUCTURE):
        return any(_has_dense_compact(e) for e in v)
    if tag != COMPACT_ARRAY:
        return False
    td, rows = v
    size = sum(len(_plain_bytes(td, r)) for r in rows)
    return bool(rows) and (size == 0 or len(rows) * _cost(td) > 4 * size + 16)


def _plain_bytes(td, v):
    buf = bytearray(1 << 16)
    w = Writer(buf)
    axdr_value.encode_plain(w, td, v)
    return bytes(buf[: w.pos])


def _cost(td, dry=False):
    # the documented budget: a unit per value, and per description node under an empty array
    if isinstance(td, int):
        return 1
    if td[0] == ARRAY:
        return 1 + (_cost(td[2], True) if dry or td[1] == 0 else td[1] * _cost(td[2]))
    return 1 + sum(_cost(e, dry) for e in td[1])


@FUZZ
@given(values)
def test_fuzz_round_trip(value):
    b = _encode_or_none(value)
    if b is None:
        return
    r = Reader(b, max_depth=64)
    back = decode(r)
    assert r.pos == len(b)
    assert mp.same(back, value), (value, back)
    assert mp.enc(back, 1 << 16) == b
    assert Reader(b, max_depth=64).skip() == (0, len(b))


@FUZZ
@given(compacts)
def test_fuzz_compact_array(value):
    b = _encode_or_none(value)
    if b is None:
        with pytest.raises(ValueError):
            mp.enc(value)
        return
    assert mp.same(mp.dec(b, max_depth=64), value)
    assert Reader(b, max_depth=64).skip() == (0, len(b))


def _only_axdr_errors(b, **kw):
    """data() and skip() on b: nothing but AxdrError, and they agree on what is valid and where it ends."""
    r = Reader(b, **kw)
    try:
        decode(r)
        ok, end = True, r.pos
    except AxdrError:
        ok, end = False, None
    r = Reader(b, **kw)
    try:
        span = r.skip()
        assert ok and span == (0, end), "skip() accepted what data() refused"
    except AxdrError:
        assert not ok, "skip() refused what data() accepted"
    return ok


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_garbage(b):
    _only_axdr_errors(b)
    _only_axdr_errors(b, max_depth=3)


# Plausible garbage: a valid head in front of random octets gets past the first checks.
@FUZZ
@given(st.sampled_from([b"\x01", b"\x02", b"\x13", b"\x13\x02", b"\x13\x01", b"\x0c", b"\x04", b"\x01\x82", b"\x13\x02\x02"]), st.binary(max_size=120))
def test_fuzz_garbage_with_head(head, tail):
    _only_axdr_errors(head + tail)


@FUZZ
@given(values, st.data())
def test_fuzz_truncation_and_mutation(value, data):
    b = _encode_or_none(value)
    if b is None:
        return
    cut = data.draw(st.integers(0, len(b) - 1))
    with pytest.raises(AxdrError):
        decode(Reader(b[:cut], max_depth=64))
    with pytest.raises(AxdrError):
        Reader(b[:cut], max_depth=64).skip()
    i = data.draw(st.integers(0, len(b) - 1))
    m = bytearray(b)
    m[i] = data.draw(st.integers(0, 255))
    _only_axdr_errors(bytes(m), max_depth=64)
    _only_axdr_errors(bytes(m) + data.draw(st.binary(max_size=8)), max_depth=64)


@FUZZ
@given(values, st.data())
def test_fuzz_buffer_full(value, data):
    b = _encode_or_none(value)
    if b is None:
        return
    size = data.draw(st.integers(0, len(b) - 1))
    with pytest.raises(BufferFull):
        encode(Writer(bytearray(size)), value)
    # a window inside a larger buffer: end bounds it, and the bytes around it stay untouched
    buf = bytearray(b"\xee" * (len(b) + 8))
    with pytest.raises(BufferFull):
        encode(Writer(buf, pos=4, end=4 + size), value)
    assert buf[: 4] == b"\xee" * 4 and buf[4 + size :] == b"\xee" * (len(b) + 4 - size)
    w = Writer(buf, pos=4, end=4 + len(b))
    encode(w, value)
    assert bytes(buf[4 : w.pos]) == b


@FUZZ
@given(st.sampled_from(sorted(INT_RANGES)), st.integers(1, 1 << 80), st.booleans())
def test_fuzz_range_checks(tag, excess, low):
    lo, hi = INT_RANGES[tag]
    v = lo - excess if low else hi + excess
    w = Writer(bytearray(16), pos=1)
    with pytest.raises(ValueError):
        encode(w, (tag, v))
    assert w.pos == 1


@FUZZ
@given(st.floats(width=32, allow_nan=False), st.floats(allow_nan=False))
def test_fuzz_floats_exact(f32, f64):
    for tag, f, fmt in ((FLOAT32, f32, ">f"), (FLOAT64, f64, ">d")):
        b = mp.enc((tag, f))
        assert b[1:] == struct.pack(fmt, f)
        back = mp.dec(b)[1]
        assert back == f and math.copysign(1, back) == math.copysign(1, f)


def test_float32_rounding_edge():
    # float64 values that float32 cannot hold are an error, never inf in disguise
    with pytest.raises(ValueError):
        mp.enc((FLOAT32, 3.5e38))
    assert mp.dec(mp.enc((FLOAT32, 0.1)))[1] == struct.unpack(">f", struct.pack(">f", 0.1))[0]


def test_no_python_errors_on_pathological_inputs():
    for b in (b"\x13\x02\x81\x7f" + b"\x00" * 127 + b"\x00", b"\x13\x01\xff\xff\x02\x00\x00", b"\x01\x84\x7f\xff\xff\xff"):
        _only_axdr_errors(b)
