# A-XDR codec on the device runtime: byte vectors, every data type, bad input (also run on CPython by unit/test_axdr.py).
from firmware.dlms.axdr import (
    ARRAY,
    BCD,
    BIT_STRING,
    BOOLEAN,
    COMPACT_ARRAY,
    DATE,
    DATE_TIME,
    DELTA_DOUBLE_LONG,
    DELTA_DOUBLE_LONG_UNSIGNED,
    DELTA_INTEGER,
    DELTA_LONG,
    DELTA_LONG_UNSIGNED,
    DELTA_UNSIGNED,
    DONT_CARE,
    DOUBLE_LONG,
    DOUBLE_LONG_UNSIGNED,
    ENUM,
    FLOAT32,
    FLOAT64,
    INTEGER,
    LONG,
    LONG64,
    LONG64_UNSIGNED,
    LONG_UNSIGNED,
    NULL_DATA,
    OCTET_STRING,
    STRUCTURE,
    TIME,
    UNSIGNED,
    UTF8_STRING,
    VISIBLE_STRING,
    AxdrError,
    BufferFull,
    Reader,
    Writer,
)
from firmware.dlms.axdr_value import decode, decode_plain, encode, encode_plain


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


def enc(value, size=8192):
    buf = bytearray(size)
    w = Writer(buf)
    encode(w, value)
    return bytes(buf[: w.pos])


def dec(b, max_depth=16):
    r = Reader(b, max_depth=max_depth)
    v = r.data()
    assert r.pos == len(b), (r.pos, len(b))
    return v


def raises(fn, exc=AxdrError):
    try:
        fn()
    except exc:
        return True
    return False


# The data parts of dlms-byte-examples.md (GET-Response results, selective-access
# parameters, the DataNotification body): A-XDR Data and nothing else.
OBJECT_LIST = (
    "01 05 02 04 12 00 0F 11 02 09 06 00 00 28 00 00 FF 02 02 01 00 01 00"
    " 02 04 12 00 01 11 00 09 06 00 00 2A 00 00 FF 02 02 01 00 01 00"
    " 02 04 12 00 03 11 00 09 06 01 00 01 08 00 FF 02 02 01 00 01 00"
    " 02 04 12 00 08 11 00 09 06 00 00 01 00 00 FF 02 02 01 00 01 00"
    " 02 04 12 00 07 11 01 09 06 01 00 63 01 00 FF 02 02 01 00 01 00"
)
REGISTER = "06 00 01 E2 40"
SCALER_UNIT = "02 02 0F FF 16 1E"
CLOCK = "09 0C 07 EA 0B 19 FF 00 22 20 00 00 00 00"
PROFILE_ENTRY = (
    "01 02 02 02 09 0C 07 E8 01 01 FF 00 00 00 00 00 00 00 06 00 00 03 E8"
    " 02 02 09 0C 07 E8 01 01 FF 01 00 00 00 00 00 00 06 00 00 03 F2"
)
PROFILE_RANGE = (
    "01 04 02 02 09 0C 07 E8 01 01 FF 02 00 00 00 00 00 00 06 00 00 03 FC"
    " 02 02 09 0C 07 E8 01 01 FF 03 00 00 00 00 00 00 06 00 00 04 06"
    " 02 02 09 0C 07 E8 01 01 FF 04 00 00 00 00 00 00 06 00 00 04 10"
    " 02 02 09 0C 07 E8 01 01 FF 05 00 00 00 00 00 00 06 00 00 04 1A"
)
EMPTY_RANGE = "01 00"
ENTRY_DESCRIPTOR = "02 04 06 00 00 00 01 06 00 00 00 02 12 00 01 12 00 00"
RANGE_DESCRIPTOR_COSEM = (
    "02 04 02 04 12 00 08 09 06 00 00 01 00 00 FF 0F 02 12 00 00"
    " 09 0C 07 E8 01 01 FF 02 00 00 00 80 00 00 09 0C 07 E8 01 01 FF 05 00 00 00 80 00 00 01 00"
)
RANGE_DESCRIPTOR_GURUX = (
    "02 04 02 04 12 00 08 09 06 00 00 01 00 00 FF 0F 02 12 00 00"
    " 09 0C 07 E8 01 01 FF 02 00 00 00 00 00 00 09 0C 07 E8 01 01 FF 05 00 00 00 00 00 00 01 00"
)
NOTIFICATION_BODY = (
    "02 03 09 06 00 00 19 09 00 FF 09 10 47 52 58 30 30 30 30 30 30 30 30 30 30 30 30 31 06 00 01 E2 40"
)
VECTORS = (
    OBJECT_LIST,
    REGISTER,
    SCALER_UNIT,
    CLOCK,
    PROFILE_ENTRY,
    PROFILE_RANGE,
    EMPTY_RANGE,
    ENTRY_DESCRIPTOR,
    RANGE_DESCRIPTOR_COSEM,
    RANGE_DESCRIPTOR_GURUX,
    NOTIFICATION_BODY,
)

# One hand-written sample per data type, edges included.
SAMPLES = (
    (NULL_DATA, None),
    (ARRAY, []),
    (ARRAY, [(UNSIGNED, 1), (UNSIGNED, 2)]),
    (STRUCTURE, [(NULL_DATA, None), (STRUCTURE, [(BOOLEAN, True)]), (ARRAY, [])]),
    (BOOLEAN, False),
    (BOOLEAN, True),
    (BIT_STRING, (0, b"")),
    (BIT_STRING, (12, b"\xa5\xf0")),
    (BIT_STRING, (24, b"\x00\x00\x7e")),
    (DOUBLE_LONG, -(1 << 31)),
    (DOUBLE_LONG, (1 << 31) - 1),
    (DOUBLE_LONG_UNSIGNED, 0),
    (DOUBLE_LONG_UNSIGNED, 0xFFFFFFFF),
    (OCTET_STRING, b""),
    (OCTET_STRING, b"\x00\x00\x01\x00\x00\xff"),
    (OCTET_STRING, bytes(range(256)) * 2),
    (VISIBLE_STRING, b"GRX0000000000001"),
    (UTF8_STRING, ""),
    (UTF8_STRING, "z\u00e9\u20ac\U0001f600"),
    (BCD, 0x99),
    (INTEGER, -128),
    (INTEGER, 127),
    (LONG, -32768),
    (LONG, 32767),
    (UNSIGNED, 255),
    (LONG_UNSIGNED, 65535),
    (COMPACT_ARRAY, ((STRUCTURE, [LONG_UNSIGNED, UNSIGNED]), [[1, 2], [3, 4]])),
    (COMPACT_ARRAY, (UNSIGNED, [])),
    (
        COMPACT_ARRAY,
        (
            (STRUCTURE, [DATE_TIME, (ARRAY, 2, DOUBLE_LONG), OCTET_STRING, BIT_STRING, NULL_DATA, BOOLEAN]),
            [
                [h("07E80101FF0000000000 8000"), [1, -1], b"", (3, b"\xe0"), None, True],
                [h("07E80101FF0100000000 8000"), [2, -2], b"ab", (0, b""), None, False],
            ],
        ),
    ),
    (COMPACT_ARRAY, ((ARRAY, 0, UNSIGNED), [])),
    (COMPACT_ARRAY, (UTF8_STRING, ["", "\u00e9"])),
    (LONG64, -(1 << 63)),
    (LONG64, (1 << 63) - 1),
    (LONG64_UNSIGNED, (1 << 64) - 1),
    (ENUM, 30),
    (FLOAT32, 1.5),
    (FLOAT32, -0.0),
    (FLOAT32, 3.4028234663852886e38),
    (FLOAT64, -2.5e-300),
    (FLOAT64, float("inf")),
    (DATE_TIME, h("07 EA 0B 19 FF 00 22 20 00 80 00 00")),
    (DATE, h("07 E8 01 01 FF")),
    (TIME, h("17 3B 3B FF")),
    (DELTA_INTEGER, -1),
    (DELTA_LONG, -300),
    (DELTA_DOUBLE_LONG, -70000),
    (DELTA_UNSIGNED, 200),
    (DELTA_LONG_UNSIGNED, 60000),
    (DELTA_DOUBLE_LONG_UNSIGNED, 4000000000),
    (DONT_CARE, None),
)

# (tagged value, exact encoding), checked by hand against the Green Book rules.
KNOWN = (
    ((NULL_DATA, None), "00"),
    ((DONT_CARE, None), "FF"),
    ((BOOLEAN, True), "03 01"),
    ((BIT_STRING, (12, b"\xa5\xf0")), "04 0C A5 F0"),
    ((DOUBLE_LONG, -2), "05 FF FF FF FE"),
    ((VISIBLE_STRING, b"AB"), "0A 02 41 42"),
    ((UTF8_STRING, "\u20ac"), "0C 03 E2 82 AC"),
    ((BCD, 0x42), "0D 42"),
    ((LONG64, -1), "14 FF FF FF FF FF FF FF FF"),
    ((FLOAT32, 1.0), "17 3F 80 00 00"),
    ((FLOAT64, -2.0), "18 C0 00 00 00 00 00 00 00"),
    ((DATE, h("07E80101FF")), "1A 07 E8 01 01 FF"),
    ((DELTA_LONG, -2), "1D FF FE"),
    ((DELTA_DOUBLE_LONG_UNSIGNED, 250), "21 00 00 00 FA"),
    # contents-description structure{long-unsigned, unsigned}, array-contents 6 octets
    ((COMPACT_ARRAY, ((STRUCTURE, [LONG_UNSIGNED, UNSIGNED]), [[1, 2], [3, 4]])), "13 02 02 12 11 06 00 01 02 00 03 04"),
    # contents-description array[2] of long: number-of-elements is Unsigned16
    ((COMPACT_ARRAY, ((ARRAY, 2, LONG), [[-1, 1]])), "13 01 00 02 10 04 FF FF 00 01"),
    ((COMPACT_ARRAY, (OCTET_STRING, [b"a", b""])), "13 09 03 01 61 00"),
)


def same(a, b):
    # == with NaN equal to itself and -0.0 told apart from 0.0
    if isinstance(a, float) and isinstance(b, float):
        if a != a:
            return b != b
        return a == b and str(a)[0] == str(b)[0]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b) or isinstance(a, list) != isinstance(b, list):
            return False
        for x, y in zip(a, b):
            if not same(x, y):
                return False
        return True
    return type(a) is type(b) and a == b


def check_round_trip(value):
    b = enc(value)
    back = dec(b)
    assert same(back, value), (value, back)
    assert enc(back) == b
    r = Reader(b)
    assert r.skip() == (0, len(b))
    return b


def test_vectors_round_trip():
    for v in VECTORS:
        b = h(v)
        value = dec(b)
        assert enc(value) == b, v
        r = Reader(b)
        assert r.skip() == (0, len(b))
        assert r.pos == len(b)


def test_vector_values():
    assert dec(h(REGISTER)) == (DOUBLE_LONG_UNSIGNED, 123456)
    assert dec(h(SCALER_UNIT)) == (STRUCTURE, [(INTEGER, -1), (ENUM, 30)])
    assert dec(h(CLOCK)) == (OCTET_STRING, h("07 EA 0B 19 FF 00 22 20 00 00 00 00"))
    assert dec(h(EMPTY_RANGE)) == (ARRAY, [])
    ol = dec(h(OBJECT_LIST))
    assert ol[0] == ARRAY and len(ol[1]) == 5
    assert ol[1][0] == (
        STRUCTURE,
        [
            (LONG_UNSIGNED, 15),
            (UNSIGNED, 2),
            (OCTET_STRING, h("00 00 28 00 00 FF")),
            (STRUCTURE, [(ARRAY, []), (ARRAY, [])]),
        ],
    )
    rows = dec(h(PROFILE_RANGE))[1]
    assert [row[1][1] for row in rows] == [(DOUBLE_LONG_UNSIGNED, x) for x in (1020, 1030, 1040, 1050)]
    body = dec(h(NOTIFICATION_BODY))[1]
    assert body[1] == (OCTET_STRING, b"GRX0000000000001")


def test_known_encodings():
    for value, hx in KNOWN:
        assert enc(value) == h(hx), (value, enc(value), hx)
        assert same(dec(h(hx)), value)


def test_long_form_length():
    # 1440 entries: the dlms-cosem example that starts 01 82 05 A0
    value = (ARRAY, [(UNSIGNED, i & 0xFF) for i in range(1440)])
    b = enc(value)
    assert b[:4] == h("01 82 05 A0")
    assert dec(b) == value
    for n, head in ((0, "00"), (0x7F, "7F"), (0x80, "81 80"), (0xFF, "81 FF"), (0x100, "82 01 00"), (0xFFFF, "82 FF FF"), (0x10000, "84 00 01 00 00")):
        buf = bytearray(8)
        w = Writer(buf)
        w.length(n)
        assert bytes(buf[: w.pos]) == h(head), n
        assert Reader(buf).length() == n
    assert Reader(h("83 01 00 00")).length() == 0x10000  # 3-octet form read, never written
    assert Reader(h("81 05")).length() == 5  # non-minimal form read


def test_every_type_round_trip():
    seen = set()
    for value in SAMPLES:
        check_round_trip(value)
        seen.add(value[0])
    for t in range(34):
        if t not in (7, 8, 11, 14):
            assert t in seen, t
    assert DONT_CARE in seen
    nan = dec(enc((FLOAT64, float("nan"))))[1]
    assert nan != nan
    assert dec(enc((FLOAT32, float("-inf")))) == (FLOAT32, float("-inf"))
    assert dec(enc((VISIBLE_STRING, "ABC"))) == (VISIBLE_STRING, b"ABC")
    assert dec(enc((UTF8_STRING, b"\xc3\xa9"))) == (UTF8_STRING, "\u00e9")


def test_typed_writer_methods():
    calls = (
        ("null", (), (NULL_DATA, None)),
        ("dont_care", (), (DONT_CARE, None)),
        ("boolean", (True,), (BOOLEAN, True)),
        ("bit_string", (12, b"\xa5\xf0"), (BIT_STRING, (12, b"\xa5\xf0"))),
        ("double_long", (-5,), (DOUBLE_LONG, -5)),
        ("double_long_unsigned", (123456,), (DOUBLE_LONG_UNSIGNED, 123456)),
        ("octet_string", (b"\x01\x02",), (OCTET_STRING, b"\x01\x02")),
        ("visible_string", (b"x",), (VISIBLE_STRING, b"x")),
        ("utf8_string", ("\u00e9",), (UTF8_STRING, "\u00e9")),
        ("bcd", (0x12,), (BCD, 0x12)),
        ("integer", (-1,), (INTEGER, -1)),
        ("long", (-300,), (LONG, -300)),
        ("unsigned", (7,), (UNSIGNED, 7)),
        ("long_unsigned", (65535,), (LONG_UNSIGNED, 65535)),
        ("long64", (-(1 << 40),), (LONG64, -(1 << 40))),
        ("long64_unsigned", (1 << 63,), (LONG64_UNSIGNED, 1 << 63)),
        ("enum", (30,), (ENUM, 30)),
        ("float32", (0.5,), (FLOAT32, 0.5)),
        ("float64", (0.1,), (FLOAT64, 0.1)),
        ("date_time", (bytes(12),), (DATE_TIME, bytes(12))),
        ("date", (bytes(5),), (DATE, bytes(5))),
        ("time", (bytes(4),), (TIME, bytes(4))),
        ("delta_integer", (-2,), (DELTA_INTEGER, -2)),
        ("delta_long", (2,), (DELTA_LONG, 2)),
        ("delta_double_long", (-2,), (DELTA_DOUBLE_LONG, -2)),
        ("delta_unsigned", (2,), (DELTA_UNSIGNED, 2)),
        ("delta_long_unsigned", (2,), (DELTA_LONG_UNSIGNED, 2)),
        ("delta_double_long_unsigned", (2,), (DELTA_DOUBLE_LONG_UNSIGNED, 2)),
    )
    for name, args, value in calls:
        buf = bytearray(32)
        w = Writer(buf)
        getattr(w, name)(*args)
        assert bytes(buf[: w.pos]) == enc(value), name
    # headers, then elements written one by one: the reply-buffer way
    buf = bytearray(64)
    w = Writer(buf)
    w.structure(2)
    w.integer(-1)
    w.enum(30)
    assert bytes(buf[: w.pos]) == h(SCALER_UNIT)
    w = Writer(buf)
    w.compact_array((STRUCTURE, [LONG_UNSIGNED, UNSIGNED]), 6)
    for a, b in ((1, 2), (3, 4)):
        w.u16(a)
        w.u8(b)
    assert bytes(buf[: w.pos]) == h("13 02 02 12 11 06 00 01 02 00 03 04")
    w = Writer(buf)
    w.array(1440)
    assert bytes(buf[: w.pos]) == h("01 82 05 A0")
    w = Writer(buf)
    w.u8(0xFF)
    w.u16(0x1234)
    w.u32(0xDEADBEEF)
    w.u64(1 << 63)
    w.i8(-1)
    w.i16(-2)
    w.i32(-3)
    w.i64(-4)
    w.raw(b"\xab")
    assert bytes(buf[: w.pos]) == h(
        "FF 1234 DEADBEEF 8000000000000000 FF FFFE FFFFFFFD FFFFFFFFFFFFFFFC AB"
    )


def test_reader_typed_access():
    r = Reader(h(OBJECT_LIST))
    assert r.header(ARRAY) == 5
    assert r.header(STRUCTURE) == 4
    assert r.value(LONG_UNSIGNED) == 15
    assert r.value(UNSIGNED) == 2
    assert r.value(OCTET_STRING) == h("00 00 28 00 00 FF")
    assert r.peek() == STRUCTURE
    start, end = r.skip()
    assert end - start == 6 and r.pos == end
    assert raises(lambda: r.value(OCTET_STRING))  # a structure is next
    r = Reader(h("06 00 01 E2 40 11 05"))
    assert r.tag() == DOUBLE_LONG_UNSIGNED
    assert r.u32() == 123456
    r.expect(UNSIGNED)
    assert r.u8() == 5
    assert r.remaining() == 0
    assert raises(r.u8)
    r = Reader(h("09 03 01 02 03"))
    r.expect(OCTET_STRING)
    mv = r.raw(r.length())
    assert bytes(mv) == b"\x01\x02\x03"
    r = Reader(h("00 01 02 00 03 04"))
    assert decode_plain(r, (ARRAY, 2, (STRUCTURE, [LONG_UNSIGNED, UNSIGNED]))) == [[1, 2], [3, 4]]
    buf = bytearray(8)
    w = Writer(buf)
    encode_plain(w, (ARRAY, 2, (STRUCTURE, [LONG_UNSIGNED, UNSIGNED])), [[1, 2], [3, 4]])
    assert bytes(buf[: w.pos]) == h("00 01 02 00 03 04")
    # a window: pos and end bound the reader
    r = Reader(h("FF 11 05 FF"), pos=1, end=3)
    assert r.data() == (UNSIGNED, 5) and r.pos == 3
    assert raises(r.data)


GARBAGE = (
    "",  # nothing
    "07 00 00 00 00",  # floating-point [7]: withdrawn
    "08",
    "0B",
    "0E",
    "FE",
    "01",  # array without count
    "01 02 11 01",  # second element missing
    "01 85 00 00 00 00 01",  # 5-octet length
    "01 80",  # indefinite length
    "01 84 FF FF FF FF 00",  # count beyond the input
    "09 05 01 02",  # octet-string shorter than its length
    "04 09 FF",  # 9 bits need 2 octets
    "06 00 01 E2",  # truncated u32
    "14 00 00 00",
    "19 07 E8",  # date-time shorter than 12
    "0C 02 C0 80",  # overlong UTF-8
    "0C 03 ED A0 80",  # UTF-16 surrogate in UTF-8
    "0C 04 F4 90 80 80",  # beyond U+10FFFF
    "0C 02 E2 82",  # cut sequence
    "0C 01 80",  # lone continuation octet
    "0C 01 FF",
    "13",  # compact-array without description
    "13 13 00",  # compact-array inside a description
    "13 07 00",  # bad type in a description
    "13 01 00",  # array description without its element type
    "13 12 03 00 01 02",  # contents end inside a row
    "13 11 05 01 02",  # contents beyond the input
    "13 00 01 00",  # null rows take no octet: the count is unknowable
    "13 02 02 01 FF FF 00 11 02 00 07",  # 65535 nulls from one octet: too dense
    "13 01 FF FF 01 FF FF 11 01 05",  # 65535 x 65535 unsigned from one octet
    "13 02 01 01 00 01",  # structure description cut
)


def test_garbage_raises_axdr_error():
    for g in GARBAGE:
        b = h(g)
        assert raises(lambda: Reader(b).data()), g
        assert raises(lambda: Reader(b).skip()), g


def test_truncations_raise():
    for v in VECTORS + ("13 02 02 12 11 06 00 01 02 00 03 04", "0C 03 E2 82 AC"):
        b = h(v)
        for n in range(len(b)):
            assert raises(lambda: Reader(b[:n]).data()), (v, n)
            assert raises(lambda: Reader(b[:n]).skip()), (v, n)


def test_depth_limit():
    deep = b"\x01\x01" * 16 + b"\x00"
    assert dec(deep)[0] == ARRAY
    assert Reader(deep).skip() == (0, len(deep))
    deeper = b"\x02\x01" * 17 + b"\x00"
    assert raises(lambda: Reader(deeper).data())
    assert raises(lambda: Reader(deeper).skip())
    assert dec(deeper, max_depth=17)[0] == STRUCTURE
    # a compact array and its description count as levels too
    ca = b"\x01\x01" * 15 + h("13 01 00 01 11 01 05")
    assert raises(lambda: Reader(ca).data())
    assert raises(lambda: Reader(ca).skip())
    assert dec(ca, max_depth=17)[0] == ARRAY
    # no recursion error, however deep the input claims to be
    bomb = b"\x01\x01" * 5000
    assert raises(lambda: Reader(bomb).data())
    assert raises(lambda: Reader(bomb).skip())


def test_buffer_full():
    for value in SAMPLES:
        b = enc(value)
        for size in range(len(b)):
            assert raises(lambda: encode(Writer(bytearray(size)), value), BufferFull), (value, size)
        buf = bytearray(len(b) + 4)
        assert raises(lambda: encode(Writer(buf, end=len(b) - 1), value), BufferFull) or not b
        w = Writer(buf, pos=2, end=len(b) + 2)
        encode(w, value)
        assert bytes(buf[2 : w.pos]) == b


def test_block_streaming_rollback():
    # Block transfer: write rows until the block is full, roll back the row
    # that did not fit, send, carry on with that row in the next block.
    rows = [(STRUCTURE, [(DATE_TIME, bytes(12)), (DOUBLE_LONG_UNSIGNED, 1000 + i)]) for i in range(10)]
    row_len = len(enc(rows[0]))
    block = bytearray(3 + 3 * row_len + row_len // 2)
    sent = []
    i = 0
    while i < len(rows):
        w = Writer(block)
        if not sent:
            w.array(len(rows))
        while i < len(rows):
            saved = w.pos
            try:
                encode(w, rows[i])
            except BufferFull:
                w.pos = saved
                break
            i += 1
        sent.append(bytes(block[: w.pos]))
    assert len(sent) == 4
    assert dec(b"".join(sent)) == (ARRAY, rows)


def test_range_checks():
    limits = (
        (DOUBLE_LONG, -(1 << 31), (1 << 31) - 1),
        (DOUBLE_LONG_UNSIGNED, 0, 0xFFFFFFFF),
        (BCD, 0, 255),
        (INTEGER, -128, 127),
        (LONG, -32768, 32767),
        (UNSIGNED, 0, 255),
        (LONG_UNSIGNED, 0, 65535),
        (LONG64, -(1 << 63), (1 << 63) - 1),
        (LONG64_UNSIGNED, 0, (1 << 64) - 1),
        (ENUM, 0, 255),
        (DELTA_INTEGER, -128, 127),
        (DELTA_LONG, -32768, 32767),
        (DELTA_DOUBLE_LONG, -(1 << 31), (1 << 31) - 1),
        (DELTA_UNSIGNED, 0, 255),
        (DELTA_LONG_UNSIGNED, 0, 65535),
        (DELTA_DOUBLE_LONG_UNSIGNED, 0, 0xFFFFFFFF),
    )
    buf = bytearray(16)
    for tag, lo, hi in limits:
        for v in (lo - 1, hi + 1, lo - (1 << 70), hi + (1 << 70)):
            w = Writer(buf, pos=3)
            assert raises(lambda: encode(w, (tag, v)), ValueError), (tag, v)
            assert w.pos == 3  # checked before a byte is written
        check_round_trip((tag, lo))
        check_round_trip((tag, hi))
    for name, args in (
        ("u8", (256,)),
        ("u8", (-1,)),
        ("u16", (65536,)),
        ("u32", (1 << 32,)),
        ("u64", (1 << 64,)),
        ("i8", (128,)),
        ("i16", (-32769,)),
        ("i32", (1 << 31,)),
        ("i64", (-(1 << 63) - 1,)),
        ("length", (-1,)),
        ("length", (1 << 32,)),
        ("array", (-1,)),
        ("bit_string", (9, b"\x00")),
        ("bit_string", (8, b"\x00\x00")),
        ("bit_string", (-1, b"")),
        ("date_time", (bytes(11),)),
        ("date", (bytes(6),)),
        ("time", (bytes(3),)),
        ("float32", (1e39,)),
        ("float32", (-1e39,)),
        ("utf8_string", (b"\xc0\x80",)),
        ("type_description", (7,)),
        ("type_description", (COMPACT_ARRAY,)),
        ("type_description", (ARRAY,)),
        ("type_description", ((ARRAY, 65536, UNSIGNED),)),
    ):
        w = Writer(buf)
        assert raises(lambda: getattr(w, name)(*args), ValueError), (name, args)
        if name != "type_description":  # a description is written as it is checked
            assert w.pos == 0, name
    for bad in (
        (7, b"\x00\x00\x00\x00"),
        (NULL_DATA, 0),
        (COMPACT_ARRAY, ((ARRAY, 2, UNSIGNED), [[1]])),  # row is not array[2]
        (COMPACT_ARRAY, ((STRUCTURE, [UNSIGNED]), [[1, 2]])),
        (COMPACT_ARRAY, (NULL_DATA, [None])),  # rows without octets cannot be counted back
        (COMPACT_ARRAY, ((ARRAY, 1000, NULL_DATA), [[None] * 1000])),  # too dense to decode
    ):
        assert raises(lambda: enc(bad), ValueError), bad
    w = Writer(bytearray(4))
    assert raises(lambda: w.u8(1.5), TypeError)


def test_compact_cost_bounded():
    # Descriptions that make work out of nothing: nested empty arrays over a wide
    # structure, walked for every row. The budget stops it after a few units per octet.
    inner = b"\x02\x81\x80" + b"\x11" * 128  # structure of 128 unsigned
    column = b"\x01\x00\x00" + inner  # array[0] of it: no octet in the contents
    td = b"\x02\x81\x80" + column * 127 + b"\x11"
    rows = b"\x05" * 200
    b = b"\x13" + td + b"\x81" + bytes([len(rows)]) + rows
    assert raises(lambda: Reader(b).data())
    assert raises(lambda: Reader(b).skip())
    # the same shape with one column decodes: 200 rows of [[], 5]
    td = b"\x02\x02" + column + b"\x11"
    b = b"\x13" + td + b"\x81" + bytes([len(rows)]) + rows
    assert raises(lambda: Reader(b).data())  # 131 units a row for one octet
    td = b"\x02\x02\x01\x00\x00\x11\x11"
    b = b"\x13" + td + b"\x81" + bytes([len(rows)]) + rows
    v = dec(b)
    assert v == (COMPACT_ARRAY, ((STRUCTURE, [(ARRAY, 0, UNSIGNED), UNSIGNED]), [[[], 5]] * 200))
    assert Reader(b).skip() == (0, len(b))
    assert enc(v) == b


def test_writer_over_memoryview_and_forwarding():
    # a reply buffer handed out as a memoryview slice, and octets forwarded from a request without a copy
    big = bytearray(32)
    w = Writer(memoryview(big)[4:24])
    r = Reader(h(CLOCK))
    r.expect(OCTET_STRING)
    w.u8(OCTET_STRING)
    n = r.length()
    w.length(n)
    w.raw(r.raw(n))
    w.double_long_unsigned(123456)
    assert bytes(big[4 : 4 + w.pos]) == h(CLOCK) + h(REGISTER) and w.pos == 19
    assert big[:4] == bytes(4) and big[23:] == bytes(9)
    assert raises(lambda: w.double_long_unsigned(1), BufferFull)
