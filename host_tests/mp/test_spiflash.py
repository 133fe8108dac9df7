# littlefs2 on hal/spiflash.py over a fake NOR chip, whole and through a partition, on the MicroPython unix port.
import os

import vfs

from fakenor import FakeNor
from hal import flashfs
from hal.partition import Partition
from hal.spiflash import SpiFlash

MNT = "/nor_t"


def _umount():
    try:
        vfs.umount(MNT)
    except OSError:
        pass


def test_littlefs_on_the_chip():
    chip = FakeNor(1 << 18)  # 256 KB: 64 blocks
    dev = SpiFlash(chip, chip.cs)
    assert dev.ioctl(4, 0) == 64
    vfs.VfsLfs2.mkfs(dev, progsize=256)
    vfs.mount(vfs.VfsLfs2(dev, progsize=256), MNT)
    os.mkdir(MNT + "/ring")
    body = bytes(range(256)) * 20  # 5 KB: spans two blocks
    with open(MNT + "/ring/0", "wb") as f:
        f.write(body)
    for i in range(20):
        with open(MNT + "/ring/0", "ab") as f:
            f.write(b"%04d" % i)
    _umount()
    dev2 = SpiFlash(chip, chip.cs)  # a fresh driver: nothing cached
    vfs.mount(vfs.VfsLfs2(dev2, progsize=256), MNT)
    with open(MNT + "/ring/0", "rb") as f:
        got = f.read()
    assert got[: len(body)] == body
    assert got[len(body) :] == b"".join(b"%04d" % i for i in range(20))
    _umount()
    assert chip.violations == [], chip.violations
    assert dev.erases + dev2.erases > 0 and dev.programs > 0


def test_data_partition_formats_once_and_spares_its_neighbours():
    chip = FakeNor(1 << 18)
    dev = SpiFlash(chip, chip.cs)
    dev.program(16 * 4096 - 4, b"keep")  # the last bytes of the partition before it
    dev.program(48 * 4096, b"keep")  # the first bytes of the one after it
    part = Partition(dev, 16, 32)
    assert flashfs.mount(part, MNT) == "formatted"
    with open(MNT + "/config.json", "w") as f:
        f.write('{"APN": "internet"}')
    _umount()
    assert flashfs.mount(Partition(dev, 16, 32), MNT) == "mounted"
    with open(MNT + "/config.json") as f:
        assert f.read() == '{"APN": "internet"}'
    _umount()
    buf = bytearray(4)
    dev.read(16 * 4096 - 4, buf)
    assert bytes(buf) == b"keep"
    dev.read(48 * 4096, buf)
    assert bytes(buf) == b"keep"
    for s in chip.erases:
        assert 16 <= s < 48, s
    assert chip.violations == []


def test_sleep_between_uses():
    chip = FakeNor(1 << 18)
    dev = SpiFlash(chip, chip.cs)
    vfs.VfsLfs2.mkfs(dev, progsize=256)
    dev.sleep()
    assert chip.asleep
    vfs.mount(vfs.VfsLfs2(dev, progsize=256), MNT)  # mounting wakes it
    with open(MNT + "/x", "w") as f:
        f.write("x")
    _umount()
    assert not chip.asleep and chip.violations == []
