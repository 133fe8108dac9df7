# Flash rings (firmware/ring.py) on littlefs over the twin's NOR block device: semantics, wrap-around, restart, power cuts at every block write.
import gc
import os
import time

import vfs

from boards.unix.blockdev import FlashBlockDev, PowerCut
from firmware.ring import Ring, RingError

MNT = "/ring_t"
BLOCKS = 64
RP = MNT + "/rings/r"


def _img():
    return "/tmp/mpt_ring_%d.img" % time.ticks_cpu()


def _fresh(path):
    bd = FlashBlockDev(path, 4096, BLOCKS)
    vfs.VfsLfs2.mkfs(bd, progsize=256)
    bd.close()


def _mount(path):
    bd = FlashBlockDev(path, 4096, BLOCKS)
    vfs.mount(vfs.VfsLfs2(bd, progsize=256), MNT)
    return bd


def _umount(bd):
    try:
        vfs.umount(MNT)
    except OSError:
        pass
    bd.close()


def _copy(src, dst):
    with open(src, "rb") as a, open(dst, "wb") as b:
        while True:
            c = a.read(32768)
            if not c:
                break
            b.write(c)


def _payload(r, seq, key=None):
    # The payload names its record, so a record returned under the wrong number shows.
    p = bytearray(r.payload_size)
    k = seq * 10 if key is None else key
    p[0:4] = k.to_bytes(4, "big")
    p[4:8] = seq.to_bytes(4, "big")
    for i in range(8, len(p)):
        p[i] = (seq + i) & 0xFF
    return p


def _same(r, buf, seq):
    return bytes(buf[: r.payload_size]) == bytes(_payload(r, seq))


def test_ring_append_read_scan_bisect_clear():
    path = _img()
    _fresh(path)
    bd = _mount(path)
    r = Ring(RP, 64, 10, 256)  # 4 records per segment, keep 4 segments
    assert r.payload_size == 58 and len(r) == 0 and r.first_seq is None and r.last_seq is None
    buf = bytearray(r.payload_size)
    assert not r.read(0, buf)
    assert list(r.scan(None, None, buf)) == []
    for i in range(7):
        assert r.append(_payload(r, i)) == i
    assert (r.first_seq, r.last_seq, len(r)) == (0, 6, 7)
    for i in range(7):
        assert r.read(i, buf) and _same(r, buf, i), i
    assert not r.read(7, buf) and not r.read(-1, buf)
    got = []
    for s in r.scan(2, 5, buf):
        assert _same(r, buf, s)
        got.append(s)
    assert got == [2, 3, 4, 5]
    assert r.bisect(30) == 3 and r.bisect(31) == 4 and r.bisect(0) == 0 and r.bisect(1000) == 7
    assert r.bisect(6, offset=4) == 6  # the seq copy at payload[4:8] is a key too
    r.append(b"short")  # zero-padded
    assert r.read(7, buf) and bytes(buf) == b"short" + bytes(r.payload_size - 5)
    try:
        r.append(bytes(r.payload_size + 1))
        assert False, "long payload accepted"
    except ValueError:
        pass
    r.clear()
    assert len(r) == 0 and r.first_seq is None and not r.read(3, buf)
    s = r.append(_payload(r, 100))
    assert s >= 8, s  # sequence numbers go on
    r = Ring(RP, 64, 10, 256)
    assert (r.first_seq, r.last_seq) == (s, s)
    try:
        Ring(MNT + "/rings/r/" + str(s), 64, 10, 256)  # a segment file where a folder should be
        assert False, "no RingError"
    except RingError:
        pass
    _umount(bd)
    os.remove(path)


def test_ring_wraps_keeping_capacity_and_reopens():
    path = _img()
    _fresh(path)
    bd = _mount(path)
    for rs, cap, bs, n in ((64, 10, 256, 60), (64, 64, 4096, 200), (272, 20, 4096, 70)):
        folder = RP + str(rs) + "_" + str(bs)
        r = Ring(folder, rs, cap, bs)
        buf = bytearray(r.payload_size)
        for i in range(n):
            assert r.append(_payload(r, i)) == i
            assert r.last_seq == i
            assert len(r) >= min(cap, i + 1), (rs, i, len(r))
            assert len(r) <= r.keep * r.per
            assert r.stats()["segments"] <= r.keep
        assert r.last_seq - r.first_seq + 1 >= cap
        files = [x for x in os.listdir(folder)]
        assert len(files) <= r.keep, files
        r2 = Ring(folder, rs, cap, bs)  # a restart finds everything the ring kept
        assert (r2.first_seq, r2.last_seq) == (r.first_seq, r.last_seq)
        want = r2.first_seq
        for s in r2.scan(None, None, buf):
            assert s == want and _same(r2, buf, s), s
            want += 1
        assert want == n
        assert r2.stats()["bad_records"] == 0
        assert r2.append(_payload(r2, n)) == n
    _umount(bd)
    bd = _mount(path)  # and so does a remount
    r = Ring(RP + "64_4096", 64, 64, 4096)
    assert r.last_seq == 200 and len(r) >= 64
    _umount(bd)
    os.remove(path)


def _cut_case(rs, cap, bs, pre, k):
    # Power cut at every block write of k appends (some starting a segment
    # and dropping the oldest), after pre appends already on flash.
    path = _img()
    base = path + ".base"
    _fresh(path)
    bd = _mount(path)
    r = Ring(RP, rs, cap, bs)
    for i in range(pre):
        r.append(_payload(r, i))
    _umount(bd)
    _copy(path, base)
    bd = _mount(path)
    r = Ring(RP, rs, cap, bs)
    w0 = bd.writes
    for i in range(k):
        r.append(_payload(r, pre + i))
    total = bd.writes - w0
    _umount(bd)
    assert total >= k, total
    landed = 0
    for n in range(1, total + 2):
        _copy(base, path)
        bd = _mount(path)
        r = Ring(RP, rs, cap, bs)
        bd.arm(n)
        returned = pre - 1
        try:
            for i in range(k):
                assert r.append(_payload(r, pre + i)) == pre + i
                returned = pre + i
        except PowerCut:
            pass
        _umount(bd)
        inflight = returned + 1
        bd = _mount(path)  # power back
        r = Ring(RP, rs, cap, bs)
        buf = bytearray(r.payload_size)
        st = r.stats()
        assert st["bad_records"] == 0 and st["unreadable"] == 0, (n, st)
        # every append that returned is there, nothing after the one in flight
        assert r.last_seq in (returned, inflight), (n, returned, r.last_seq)
        if r.last_seq == inflight and inflight < pre + k:
            landed += 1
        assert r.first_seq <= r.last_seq - cap + 1, (n, r.first_seq, r.last_seq)
        for s in range(r.last_seq - cap + 1, r.last_seq + 1):
            assert r.read(s, buf) and _same(r, buf, s), (n, s)
        assert not r.read(r.last_seq + 1, buf)
        want = r.first_seq
        for s in r.scan(None, None, buf):
            assert s == want and _same(r, buf, s), (n, s)
            want += 1
        assert want == r.last_seq + 1, (n, want)
        # and the ring goes on: appends and reads work, numbers keep increasing
        s = r.append(_payload(r, r.last_seq + 1))
        assert s == r.last_seq and s > returned, (n, s, returned)
        assert r.read(s, buf) and _same(r, buf, s)
        _umount(bd)
        bd = _mount(path)
        r = Ring(RP, rs, cap, bs)
        assert r.last_seq == s and r.read(s, buf) and _same(r, buf, s), n
        _umount(bd)
    os.remove(path)
    os.remove(base)
    return total, landed


def test_ring_power_cut_at_every_block_write():
    # 4 records per segment, the ring full: the 8 appends cross two segment
    # rotations (each deletes the oldest segment before creating the next).
    # Segments this small stay inline in littlefs's metadata: an append is
    # one metadata commit.
    total, landed = _cut_case(64, 8, 256, 10, 8)
    assert total >= 8, total
    # the real geometry: 64 records of 64 B per 4 KB segment, a rotation at
    # seq 128 that drops segment 0
    total, landed = _cut_case(64, 64, 4096, 126, 4)
    assert total >= 8, total
    # WM-Bus readings: 15 records of 272 B per segment, a rotation at seq 45
    total, landed = _cut_case(272, 30, 4096, 44, 3)
    assert total >= 6, total


def test_ring_power_cut_during_clear():
    # A clear is all or nothing: cut at every write of it, the ring holds
    # everything or nothing, and numbers after it are above all before it.
    path = _img()
    base = path + ".base"
    _fresh(path)
    bd = _mount(path)
    r = Ring(RP, 64, 8, 256)
    for i in range(14):
        r.append(_payload(r, i))
    first = r.first_seq
    _umount(bd)
    _copy(path, base)
    bd = _mount(path)
    w0 = bd.writes
    Ring(RP, 64, 8, 256).clear()
    total = bd.writes - w0
    _umount(bd)
    seen = {}
    for n in range(1, total + 2):
        _copy(base, path)
        bd = _mount(path)
        r = Ring(RP, 64, 8, 256)
        bd.arm(n)
        try:
            r.clear()
        except PowerCut:
            pass
        _umount(bd)
        bd = _mount(path)
        r = Ring(RP, 64, 8, 256)
        buf = bytearray(r.payload_size)
        if r.stats()["cleaned"]:
            seen["cleaned up"] = 1
        if len(r):
            assert (r.first_seq, r.last_seq) == (first, 13), (n, r.first_seq, r.last_seq)
            for s in range(first, 14):
                assert r.read(s, buf) and _same(r, buf, s), (n, s)
            seen["kept"] = 1
        else:
            assert list(r.scan(0, 100, buf)) == [] and not r.read(13, buf)
            seen["cleared"] = 1
        s = r.append(_payload(r, 14))
        assert s >= 14 and r.read(s, buf), (n, s)
        _umount(bd)
    # The marker's commit fits in the half page a cut still writes, so on
    # this chip every cut ends cleared; the ones after it leave segments
    # behind that the next open deletes.
    assert "cleared" in seen and "cleaned up" in seen, seen
    os.remove(path)
    os.remove(base)


def test_ring_costs_on_micropython():
    # Flash block writes (programs + erases) per append and RAM per ring,
    # the figures the flash budget and the heap budget rely on.
    path = _img()
    _fresh(path)
    bd = _mount(path)
    r = Ring(RP, 64, 64, 4096)
    pay = bytearray(r.payload_size)
    w0 = bd.writes
    for i in range(130):  # two segments and a rotation
        r.append(pay)
    per_append = (bd.writes - w0) / 130
    assert per_append < 6, per_append
    rings = []
    gc.collect()
    a = gc.mem_alloc()
    for i in range(4):
        rings.append(Ring(RP, 64, 64, 4096))
    gc.collect()
    ram = (gc.mem_alloc() - a) // 4
    assert ram < 700 + 64, ram
    buf = bytearray(r.payload_size)
    gc.collect()
    a = gc.mem_alloc()
    n = 0
    for s in r.scan(None, None, buf):
        n += 1
    # the one chunk and a file object per segment, nothing per record
    assert n >= 64 and gc.mem_alloc() - a < 4096 + 3 * 2048, gc.mem_alloc() - a
    _umount(bd)
    os.remove(path)
