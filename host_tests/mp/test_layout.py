# The twin's flash is the reference board's: the chip's size from boards/layout.py, littlefs on its data partition.
import os
import time

import vfs

from boards import layout
from boards.unix import board as twin


def test_twin_sizes_come_from_the_layout():
    assert twin.FLASH_BLOCK_SIZE == layout.BLOCK_SIZE
    assert twin.FLASH_BLOCKS == layout.BLOCKS
    assert layout.partition("data")[0] + layout.partition("data")[1] == layout.BLOCKS


def test_twin_mounts_littlefs_on_the_data_partition():
    d = "/tmp/mpt_layout_%d" % time.ticks_cpu()
    os.mkdir(d)
    b = twin.Board({"flash": d, "root": "."})
    assert b.mount_data() == "formatted"
    vfs.umount(b.DATA)
    b.flash.close()
    first, count = layout.partition("data")
    with open(d + "/flash.bin", "rb") as f:
        f.seek(0, 2)
        assert f.tell() == layout.BLOCKS * layout.BLOCK_SIZE
        f.seek(0)
        head = f.read(64)
        assert head == b"\xff" * 64  # application slot A untouched
        f.seek(first * layout.BLOCK_SIZE)
        sb = f.read(64)
    assert b"littlefs" in sb, sb  # the superblock opens the data partition
    for name, start, n in layout.PARTITIONS:
        if name != "data":
            assert start + n <= first
    for x in os.listdir(d):
        os.remove(d + "/" + x)
    os.rmdir(d)
