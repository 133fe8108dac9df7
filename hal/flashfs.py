"""Mounting the data file system: littlefs2 on the board's flash, formatted only when the chip is blank."""
# FAT's rename is not atomic, littlefs's is, and the settings store depends on
# it. A blank chip (all 0xFF, as delivered) is formatted; a chip that holds
# something littlefs cannot mount is formatted too, because a meter that stays
# down loses more than one that comes up with its defaults, and the caller
# is told so it can log it.
import vfs

_LFS_ARGS = {"readsize": 32, "progsize": 256, "lookahead": 32}


def _blank(bdev, bs):
    buf = bytearray(64)
    for blk in (0, 1):
        for off in range(0, bs, 64):
            bdev.readblocks(blk, buf, off)
            if buf != b"\xff" * 64:
                return False
    return True


def mount(bdev, path):
    """Mount bdev at path; returns 'mounted', 'formatted' (blank chip) or 'reformatted' (unreadable)."""
    try:
        vfs.mount(vfs.VfsLfs2(bdev, **_LFS_ARGS), path)
        return "mounted"
    except OSError:
        pass
    how = "formatted" if _blank(bdev, bdev.ioctl(5, 0)) else "reformatted"
    vfs.VfsLfs2.mkfs(bdev, **_LFS_ARGS)
    vfs.mount(vfs.VfsLfs2(bdev, **_LFS_ARGS), path)
    return how
