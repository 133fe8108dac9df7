"""Flash rings (firmware/ring.py) on CPython with a temp folder as the file system: semantics, restart, corruption, fuzzing."""
import os
import shutil
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware import ring as ringmod
from firmware.crc16 import crc16_x25
from firmware.ring import Ring, RingError

FUZZ = settings(derandomize=True, max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")), deadline=None)


def _payload(r, seq, key=None):
    p = bytearray(r.payload_size)
    k = seq * 10 if key is None else key
    p[0:4] = k.to_bytes(4, "big")
    if r.payload_size >= 8:
        p[4:8] = seq.to_bytes(4, "big")
    for i in range(8, len(p)):
        p[i] = (seq * 7 + i) & 0xFF
    return bytes(p)


def _scan(r, a=None, b=None):
    buf = bytearray(r.payload_size)
    return [(s, bytes(buf)) for s in r.scan(a, b, buf)]


def _segments(folder):
    return sorted(int(n) for n in os.listdir(folder) if n.isdigit())


@pytest.fixture
def folder(tmp_path):
    return str(tmp_path / "rings" / "r")


def test_geometry_and_payload_size(folder):
    r = Ring(folder, 64, 8832)
    assert r.payload_size == 58  # u32 sequence number + u16 CRC
    assert r.per == 64 and r.keep == 139  # boards/layout.ring_blocks(64, 8832)
    w = Ring(folder + "w", 272, 10000)
    assert w.payload_size == 266 >= 256 and w.keep == 668
    with pytest.raises(ValueError):
        Ring(folder + "x", 6, 10)  # no room for a payload
    with pytest.raises(ValueError):
        Ring(folder + "y", 5000, 10)  # a record larger than a block


def test_append_read_scan_bisect(folder):
    r = Ring(folder, 32, 10, block_size=128)  # 4 per segment, 4 segments
    buf = bytearray(r.payload_size)
    assert (len(r), r.first_seq, r.last_seq) == (0, None, None)
    assert not r.read(0, buf) and _scan(r) == [] and r.bisect(5) == 0
    for i in range(7):
        assert r.append(_payload(r, i)) == i
    assert (len(r), r.first_seq, r.last_seq) == (7, 0, 6)
    for i in range(7):
        assert r.read(i, buf) and bytes(buf) == _payload(r, i)
    assert not r.read(7, buf) and not r.read(-1, buf)
    assert _scan(r, 2, 4) == [(s, _payload(r, s)) for s in (2, 3, 4)]
    assert [s for s, _ in _scan(r, -5, 100)] == list(range(7))
    assert _scan(r, 5, 3) == []
    assert r.bisect(0) == 0 and r.bisect(1) == 1 and r.bisect(30) == 3 and r.bisect(61) == 7
    assert r.bisect(3, offset=4) == 3  # the seq copy at payload[4:8]
    # shorter payloads are zero-padded; bytes, bytearray and memoryview go in
    assert r.append(b"ab") == 7
    assert r.read(7, buf) and bytes(buf) == b"ab" + bytes(r.payload_size - 2)
    assert r.append(memoryview(bytearray(b"xyz0123"))[:3]) == 8
    assert r.read(8, buf) and bytes(buf[:4]) == b"xyz\0"
    big = bytearray(r.payload_size + 8)
    r.read(8, memoryview(big)[4:])  # a buffer longer than the payload: only payload_size bytes change
    assert bytes(big[:4]) == b"\0\0\0\0" and bytes(big[4:8]) == b"xyz\0"
    with pytest.raises(ValueError):
        r.append(bytes(r.payload_size + 1))
    assert r.last_seq == 8


def test_wrap_around_keeps_capacity(folder):
    for rs, cap, bs in ((32, 10, 128), (32, 1, 128), (64, 100, 4096), (272, 30, 4096), (100, 7, 300)):
        f = folder + "_%d_%d_%d" % (rs, cap, bs)
        r = Ring(f, rs, cap, bs)
        n = r.per * r.keep * 3 + 5
        for i in range(n):
            assert r.append(_payload(r, i)) == i
            assert len(r) >= min(cap, i + 1)
            assert r.last_seq == i and r.first_seq == r.last_seq - len(r) + 1
            assert len(_segments(f)) <= r.keep
        got = _scan(r)
        assert [s for s, _ in got] == list(range(r.first_seq, n))
        assert all(p == _payload(r, s) for s, p in got)
        assert r.stats()["dropped"] > 0


def test_restart_finds_everything(folder):
    r = Ring(folder, 64, 20, 512)
    for i in range(50):
        r.append(_payload(r, i))
    r2 = Ring(folder, 64, 20, 512)
    assert (r2.first_seq, r2.last_seq, len(r2)) == (r.first_seq, r.last_seq, len(r))
    assert _scan(r2) == _scan(r)
    assert r2.append(_payload(r2, 50)) == 50
    # an empty newest segment (a cut between creating it and its first record) is fine
    r3 = Ring(folder, 64, 20, 512)
    for i in range(51, 56):
        r3.append(_payload(r3, i))
    last = max(_segments(folder))
    open(os.path.join(folder, str(last + r3.per)), "wb").close()
    r4 = Ring(folder, 64, 20, 512)
    assert r4.last_seq == 55 and r4.append(_payload(r4, 56)) == 56
    assert [s for s, _ in _scan(Ring(folder, 64, 20, 512))][-3:] == [54, 55, 56]


def test_opening_reads_only_what_it_needs(folder, monkeypatch):
    r = Ring(folder, 64, 1000, 4096)
    for i in range(1000):
        r.append(_payload(r, i))
    opened = []
    real = open

    def counting_open(name, mode="r", *a):
        opened.append((name, mode))
        return real(name, mode, *a)

    monkeypatch.setattr(ringmod, "open", counting_open, raising=False)
    r2 = Ring(folder, 64, 1000, 4096)
    assert len(opened) == 2, opened  # the newest record and the oldest
    assert r2.last_seq == 999
    del opened[:]
    assert r2.bisect(5000) == 500
    assert len(opened) <= 11, opened  # log2(1000) + 1 reads
    del opened[:]
    assert r2.append(_payload(r2, 1000)) == 1000
    assert opened == [(os.path.join(folder, "960").replace(os.sep, "/"), "ab")]


def test_clear_forgets_and_numbers_go_on(folder):
    r = Ring(folder, 32, 10, 128)
    for i in range(9):
        r.append(_payload(r, i))
    r.clear()
    assert (len(r), r.first_seq, r.last_seq) == (0, None, None)
    assert _scan(r, 0, 100) == [] and not r.read(8, bytearray(26))
    assert [n for n in os.listdir(folder)] == ["c12"]
    r = Ring(folder, 32, 10, 128)  # after a restart too
    assert len(r) == 0 and r.bisect(0) == 12
    s = r.append(_payload(r, 100))
    assert s == 12  # the next segment boundary
    r.clear()
    r.clear()  # a clear of an empty ring
    r = Ring(folder, 32, 10, 128)
    assert r.append(b"x") == 16 and sorted(os.listdir(folder)) == ["16", "c16"]


def test_interrupted_clear_is_completed_at_open(folder):
    r = Ring(folder, 32, 10, 128)
    for i in range(11):
        r.append(_payload(r, i))
    open(os.path.join(folder, "c12"), "wb").close()  # the cut came after the marker, before the deletes
    open(os.path.join(folder, "c4"), "wb").close()  # and an older marker
    r = Ring(folder, 32, 10, 128)
    assert len(r) == 0 and _scan(r, 0, 100) == []
    assert r.stats()["cleaned"] == 4 and sorted(os.listdir(folder)) == ["c12"]
    assert r.append(b"y") == 12


def test_excess_segments_go_at_open(folder):
    # An interrupted rotation (or a smaller capacity after an upgrade) leaves more segments than the ring keeps.
    r = Ring(folder, 32, 40, 128)
    for i in range(40):
        r.append(_payload(r, i))
    r = Ring(folder, 32, 10, 128)
    assert len(_segments(folder)) == r.keep == 4
    assert (r.first_seq, r.last_seq) == (24, 39)
    assert r.stats()["cleaned"] == 6


def test_foreign_entries_are_counted_and_left_alone(folder):
    r = Ring(folder, 32, 10, 128)
    for i in range(6):
        r.append(_payload(r, i))
    for name in ("x.tmp", "4.tmp", "README", "007", "c01", "c", "5", "-4", "c3"):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(b"\0" * 32)
    os.mkdir(os.path.join(folder, "sub"))
    os.mkdir(os.path.join(folder, "c8"))
    r = Ring(folder, 32, 10, 128)
    assert (r.first_seq, r.last_seq) == (0, 5)
    assert r.stats()["foreign"] == 11
    assert os.path.exists(os.path.join(folder, "x.tmp"))
    assert _scan(r) == [(s, _payload(r, s)) for s in range(6)]
    assert r.append(b"z") == 6


def test_a_folder_in_a_segments_place_is_stepped_over(folder):
    r = Ring(folder, 32, 10, 128)
    for i in range(4):
        r.append(_payload(r, i))
    os.mkdir(os.path.join(folder, "4"))
    assert r.append(b"b") == 8  # the next segment
    assert r.stats()["append_errors"] == 1
    r = Ring(folder, 32, 10, 128)
    assert r.last_seq == 8 and r.read(3, bytearray(26)) and r.stats()["foreign"] == 1
    for base in (12, 16, 20):
        os.mkdir(os.path.join(folder, str(base)))
    assert r.append(b"c") == 9  # the current segment is a file
    assert r.append(b"d") == 10 and r.append(b"d") == 11
    assert r.append(b"e") == 24  # three in a row are stepped over
    for base in (28, 32, 36, 40):
        os.mkdir(os.path.join(folder, str(base)))
    for i in range(3):
        r.append(b"f")
    with pytest.raises(OSError):
        r.append(b"g")  # four are too many: the append fails, nothing else happens
    assert r.last_seq == 27 and r.read(27, bytearray(26))
    r = Ring(folder, 32, 10, 128)
    assert r.last_seq == 27 and r.read(24, bytearray(26))


class _FailingFile:
    def __init__(self, f):
        self.f = f

    def seek(self, n):
        self.f.seek(n)

    def readinto(self, b):
        raise OSError(5, "EIO")

    def close(self):
        self.f.close()


def test_an_unreadable_segment_costs_only_its_records(folder, monkeypatch):
    r = Ring(folder, 32, 20, 128)
    for i in range(24):
        r.append(_payload(r, i))
    real = open
    bad = os.path.join(folder, "12").replace(os.sep, "/")

    def flaky_open(name, mode="r", *a):
        f = real(name, mode, *a)
        return _FailingFile(f) if name == bad else f

    monkeypatch.setattr(ringmod, "open", flaky_open, raising=False)
    r = Ring(folder, 32, 20, 128)
    buf = bytearray(r.payload_size)
    assert (r.first_seq, r.last_seq) == (0, 23)
    assert [s for s, _ in _scan(r)] == [s for s in range(24) if not 12 <= s < 16]
    assert not r.read(13, buf) and r.read(11, buf) and r.read(16, buf)
    assert r.bisect(125) == 16
    assert r.stats()["unreadable"] >= 3
    assert r.append(b"q") == 24


def test_ring_error(tmp_path):
    p = tmp_path / "afile"
    p.write_bytes(b"x")
    with pytest.raises(RingError):
        Ring(str(p), 32, 10)
    with pytest.raises(RingError):
        Ring(str(p) + "/below", 32, 10)


def test_torn_and_flipped_records_are_skipped(folder):
    r = Ring(folder, 32, 10, 128)
    for i in range(10):
        r.append(_payload(r, i))
    seg4 = os.path.join(folder, "4")
    data = bytearray(open(seg4, "rb").read())
    data[32 + 7] ^= 0x40  # record 5, mid-segment
    open(seg4, "wb").write(data)
    seg8 = os.path.join(folder, "8")
    open(seg8, "ab").write(b"\x00\x00\x00\x0a" + b"torn")  # half a record 10 at the end
    r = Ring(folder, 32, 10, 128)
    buf = bytearray(r.payload_size)
    assert (r.first_seq, r.last_seq) == (0, 9)
    assert not r.read(5, buf) and r.read(4, buf) and r.read(6, buf)
    assert [s for s, _ in _scan(r)] == [0, 1, 2, 3, 4, 6, 7, 8, 9]
    assert r.stats()["bad_records"] >= 1
    assert r.bisect(50) == 6 and r.bisect(41) == 6 and r.bisect(40) == 4
    assert r.append(b"n") == 12  # the torn segment takes no more: the next one starts
    assert [s for s, _ in _scan(r)][-2:] == [9, 12]


def test_record_format_on_flash(folder):
    # u32 seq | payload zero-padded | CRC-16/X.25 of both, big-endian
    r = Ring(folder, 16, 4, 64)
    r.append(b"\x01\x02")
    r.append(b"\x03")
    data = open(os.path.join(folder, "0"), "rb").read()
    assert len(data) == 32
    rec = data[16:]
    assert rec[:4] == b"\0\0\0\x01" and rec[4:14] == b"\x03" + bytes(9)
    assert int.from_bytes(rec[14:], "big") == crc16_x25(rec, 0, 14)


# -- fuzzing -------------------------------------------------------------------

geometries = st.tuples(st.integers(10, 80), st.integers(1, 4), st.integers(1, 25)).map(
    lambda g: (g[0], g[0] * g[1] + g[0] // 3, g[2])  # record, block (1..4 records and some slack), capacity
)

ops = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(0, 80), st.integers(0, 3)),
        st.tuples(st.just("reopen")),
        st.tuples(st.just("clear")),
        st.tuples(st.just("read"), st.integers(-3, 40)),
        st.tuples(st.just("scan"), st.integers(-3, 40), st.integers(-3, 40)),
        st.tuples(st.just("bisect"), st.integers(0, 400)),
    ),
    max_size=120,
)


class Model:
    """What a ring must show: every record since the last clear, the newest `capacity` at least."""

    def __init__(self):
        self.recs = []  # (seq, payload, key) since the last clear
        self.key = 0
        self.top = -1  # highest seq ever returned
        self.count = 0  # appends, what the filler bytes of a payload are made of

    def check(self, r):
        assert len(self.recs) == 0 or r.last_seq == self.recs[-1][0]
        if not self.recs:
            assert len(r) == 0 and r.first_seq is None
            return
        kept = [x for x in self.recs if x[0] >= r.first_seq]
        assert len(kept) >= min(r.capacity, len(self.recs))
        assert len(r) == len(kept) <= r.keep * r.per
        assert _scan(r) == [(s, p) for s, p, _ in kept]


def _payload_for(r, n, key, count):
    p = bytearray(key.to_bytes(4, "big") + bytes((count * 31 + i) & 0xFF for i in range(max(0, n - 4))))
    return bytes(p[: max(4, min(n, r.payload_size))])


@FUZZ
@given(geometries, ops)
def test_fuzz_operations_against_a_model(geo, seq_ops):
    rs, bs, cap = geo
    d = tempfile.mkdtemp()
    try:
        path = d + "/ring"
        r = Ring(path, rs, cap, bs)
        m = Model()
        buf = bytearray(r.payload_size)
        for op in seq_ops:
            if op[0] == "append":
                m.key += op[2]
                m.count += 1
                p = _payload_for(r, op[1], m.key, m.count)
                s = r.append(p)
                assert s > m.top
                m.top = s
                m.recs.append((s, p + bytes(r.payload_size - len(p)), m.key))
            elif op[0] == "reopen":
                r = Ring(path, rs, cap, bs)
            elif op[0] == "clear":
                r.clear()
                m.recs = []
            elif op[0] == "read":
                want = dict((s, p) for s, p, _ in m.recs if r.first_seq is not None and s >= r.first_seq)
                s = (r.first_seq or 0) + op[1]
                assert r.read(s, buf) == (s in want)
                if s in want:
                    assert bytes(buf) == want[s]
            elif op[0] == "scan":
                a = (r.first_seq or 0) + op[1]
                b = (r.first_seq or 0) + op[2]
                assert _scan(r, a, b) == [(s, p) for s, p, _ in m.recs if a <= s <= b and s >= (r.first_seq or 0)]
            else:
                kept = [x for x in m.recs if r.first_seq is not None and x[0] >= r.first_seq]
                want = next((s for s, _, k in kept if k >= op[1]), r.last_seq + 1 if kept else None)
                got = r.bisect(op[1])
                if kept:
                    assert got == want
            m.check(r)
        st_ = r.stats()
        assert st_["bad_records"] == 0 and st_["foreign"] == 0 and st_["unreadable"] == 0
    finally:
        shutil.rmtree(d)


mutations = st.lists(
    st.one_of(
        st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(0, 10**6), st.integers(1, 255)),
        st.tuples(st.just("truncate"), st.integers(0, 10**6), st.integers(0, 10**6)),
        st.tuples(st.just("garbage"), st.integers(0, 10**6), st.binary(min_size=1, max_size=300)),
        st.tuples(st.just("delete"), st.integers(0, 10**6)),
        st.tuples(st.just("squat"), st.integers(0, 10**6)),  # a folder where a segment was
        st.tuples(st.just("foreign"), st.sampled_from(["x.tmp", "0.tmp", "README", "07", "c01", "c", "-1", "1x"]), st.binary(max_size=100)),
        st.tuples(st.just("folder"), st.sampled_from(["sub", "c", "x.d"])),
    ),
    min_size=1,
    max_size=6,
)


@FUZZ
@given(geometries, st.integers(1, 60), mutations, st.integers(0, 3))
def test_fuzz_corrupted_segments_never_raise_nor_return_a_bad_record(geo, n, muts, more):
    rs, bs, cap = geo
    d = tempfile.mkdtemp()
    try:
        path = d + "/ring"
        r = Ring(path, rs, cap, bs)
        written = {}
        for i in range(n):
            s = r.append(_payload(r, i, key=i // 2))
            written[s] = _payload(r, i, key=i // 2)
        segs = _segments(path)
        touched = set()
        flipped = set()
        squats = 0
        for mu in muts:
            if mu[0] in ("foreign", "folder"):
                p = os.path.join(path, mu[1])
                if mu[0] == "foreign" and not os.path.isdir(p):
                    with open(p, "wb") as f:
                        f.write(mu[2])
                elif mu[0] == "folder" and not os.path.exists(p):
                    os.mkdir(p)
                continue
            base = segs[mu[1] % len(segs)]
            p = os.path.join(path, str(base))
            if not os.path.isfile(p):
                continue
            data = bytearray(open(p, "rb").read())
            touched.add(base)
            if mu[0] == "flip":
                if not data:
                    continue
                slot = mu[2] % ((len(data) + rs - 1) // rs)
                if (base, slot) in flipped:
                    continue  # one burst per record: CRC-16 catches every one of those
                flipped.add((base, slot))
                at = slot * rs + mu[2] % rs
                if at >= len(data):
                    continue
                data[at] ^= mu[3]
                open(p, "wb").write(data)
            elif mu[0] == "truncate":
                open(p, "wb").write(data[: mu[2] % (len(data) + 1)])
            elif mu[0] == "garbage":
                open(p, "ab").write(mu[2])
            elif mu[0] == "squat":
                squats += 1
                if squats > 1:
                    continue  # the device never makes these; the ring steps over a few (unit test)
                os.remove(p)
                os.mkdir(p)
            else:
                os.remove(p)
        r = Ring(path, rs, cap, bs)  # never raises
        buf = bytearray(r.payload_size)
        got = _scan(r)
        seqs = [s for s, _ in got]
        assert seqs == sorted(set(seqs))
        for s, p in got:
            assert written.get(s) == p, s  # never a bad record
        for s in range(-2, n + 5):
            if r.read(s, buf):
                assert written.get(s) == bytes(buf)
        # records in segments nobody touched are all still there
        for s, p in written.items():
            base = s - s % r.per
            if base not in touched and os.path.exists(os.path.join(path, str(base))):
                if r.first_seq is not None and r.first_seq <= s <= r.last_seq:
                    assert r.read(s, buf) and bytes(buf) == p, s
                    assert (s, p) in got
        # bisect finds the first good record with a key at or above
        for key in range(0, n // 2 + 2):
            want = next((s for s, p in got if int.from_bytes(p[:4], "big") >= key), (r.last_seq + 1) if got else None)
            if got:
                assert r.bisect(key) == want, key
            else:
                r.bisect(key)
        assert isinstance(r.stats(), dict)
        # and the ring goes on: numbers above whatever it still shows
        top = r.last_seq
        for j in range(more + 1):
            s = r.append(_payload(r, 1000 + j))
            assert top is None or s > top
            top = s
            assert r.read(s, buf) and bytes(buf) == _payload(r, 1000 + j)
        r2 = Ring(path, rs, cap, bs)
        assert r2.last_seq == top and r2.read(top, buf)
    finally:
        shutil.rmtree(d)
