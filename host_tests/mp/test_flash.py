# Power cuts at every block write of a settings save, on littlefs over the twin's NOR block device.
import os
import time

import vfs

from boards.unix.blockdev import FlashBlockDev, PowerCut
from firmware.store import Store

DEFAULTS = {"APN": "internet", "IP": "10.0.25.30", "PORT": 4059, "RINT": 2, "PWD": "HELLO"}
OLD = {"APN": "old.apn.example", "IP": "10.0.25.31", "PORT": 58600, "RINT": 3, "PWD": "HELLO"}
NEW = {"APN": "new.apn.example.with.a.much.longer.name" * 3, "IP": "10.9.8.7", "PORT": 4060, "RINT": 24, "PWD": "SECRET"}
MNT = "/flash_t"
BLOCKS = 32


def _img():
    return "/tmp/mpt_flash_%d.img" % time.ticks_cpu()


def _mount(path):
    bd = FlashBlockDev(path, 4096, BLOCKS)
    vfs.mount(vfs.VfsLfs2(bd, progsize=256), MNT)
    return bd


def _umount():
    try:
        vfs.umount(MNT)
    except OSError:
        pass


def _copy(src, dst):
    with open(src, "rb") as a, open(dst, "wb") as b:
        b.write(a.read())


def test_flash_nor_semantics():
    path = _img()
    bd = FlashBlockDev(path, 4096, 4)
    bd.ioctl(6, 1)
    bd.writeblocks(1, b"\x0f\xf0", 10)
    bd.writeblocks(1, b"\xf3\x3f", 10)  # programming only clears bits
    buf = bytearray(2)
    bd.readblocks(1, buf, 10)
    assert bytes(buf) == b"\x03\x30", buf
    bd.arm(2)
    bd.writeblocks(1, b"\x00" * 8, 100)
    try:
        bd.writeblocks(1, b"\x00" * 8, 200)
        assert False, "no cut"
    except PowerCut:
        pass
    try:
        bd.readblocks(1, buf, 0)
        assert False, "dead flash answered"
    except OSError:
        pass
    bd.close()
    bd = FlashBlockDev(path, 4096, 4)
    b8 = bytearray(8)
    bd.readblocks(1, b8, 200)
    assert bytes(b8) == b"\x00" * 4 + b"\xff" * 4, b8  # half the block write made it
    bd.close()
    os.remove(path)


def test_power_cut_at_every_write_of_a_config_save():
    path = _img()
    base = path + ".base"
    bd = FlashBlockDev(path, 4096, BLOCKS)
    vfs.VfsLfs2.mkfs(bd, progsize=256)
    bd.close()
    bd = _mount(path)
    Store(MNT + "/config.json", DEFAULTS).load().update(OLD)
    _umount()
    bd.close()
    _copy(path, base)
    # How many block writes one save takes, uninterrupted.
    bd = _mount(path)
    w0 = bd.writes
    Store(MNT + "/config.json", DEFAULTS).load().update(NEW)
    total = bd.writes - w0
    _umount()
    bd.close()
    assert total >= 2, total
    seen_old = seen_new = 0
    for n in range(1, total + 2):
        _copy(base, path)
        bd = _mount(path)
        st = Store(MNT + "/config.json", DEFAULTS).load()
        assert st.values == OLD
        bd.arm(n)
        done = True
        try:
            st.update(NEW)
        except PowerCut:
            done = False
        _umount()
        bd.close()
        bd = _mount(path)  # power back: littlefs mounts without a format
        got = Store(MNT + "/config.json", DEFAULTS).load()
        assert got.values in (OLD, NEW), (n, got.values)
        assert not got.recovered
        if done:
            assert got.values == NEW, n
        if got.values == NEW:
            seen_new += 1
        else:
            seen_old += 1
        got.update({"RINT": 5})  # and the device can save again afterwards
        _umount()
        bd.close()
        bd = _mount(path)
        assert Store(MNT + "/config.json", DEFAULTS).load().get("RINT") == 5
        _umount()
        bd.close()
    assert seen_old and seen_new, (seen_old, seen_new)
    os.remove(path)
    os.remove(base)


def test_store_all_or_nothing_and_defaults():
    path = _img()
    bd = FlashBlockDev(path, 4096, BLOCKS)
    vfs.VfsLfs2.mkfs(bd, progsize=256)
    bd.close()
    bd = _mount(path)
    st = Store(MNT + "/c.json", DEFAULTS).load()
    assert st.values == DEFAULTS
    try:
        st.update({"APN": "x", "NOPE": 1})
        assert False
    except KeyError:
        pass
    assert st.get("APN") == "internet"
    assert Store(MNT + "/c.json", DEFAULTS).load().get("APN") == "internet"
    with open(MNT + "/c.json", "w") as f:
        f.write("{not json")
    st = Store(MNT + "/c.json", DEFAULTS).load()
    assert st.recovered and st.values == DEFAULTS
    _umount()
    bd.close()
    os.remove(path)
