"""Mounting the data file system: littlefs2 on the board's flash, formatted only when the chip is blank."""
# FAT's rename is not atomic, littlefs's is, and the settings store depends on
# it. A blank chip (all 0xFF, as delivered) is formatted; a chip that holds
# something littlefs cannot mount is formatted too, because a meter that stays
# down loses more than one that comes up with its defaults, and the caller
# is told so it can log it.
#
# progsize 256 is the NOR's page: every littlefs commit is padded to it,
# which boards/layout.py counts in the wear budget. block_cycles is fixed at
# 100 by MicroPython (a metadata pair moves after 100 erases).
import vfs

_LFS_ARGS = {"readsize": 32, "progsize": 256, "lookahead": 32}


def _lfs(bdev):
    return vfs.VfsLfs2(bdev, **_LFS_ARGS)  # type: ignore[abstract]  # stub bug: VfsLfs2 is declared a block device


def _blank(bdev, bs):
    buf = bytearray(64)
    for blk in (0, 1):
        for off in range(0, bs, 64):
            bdev.readblocks(blk, buf, off)
            if buf != b"\xff" * 64:
                return False
    return True


def mount(bdev, path, format_unreadable=True):
    """Mount bdev at path; returns 'mounted', 'formatted' (blank chip) or 'reformatted' (unreadable).

    With format_unreadable=False an unreadable device is left as it is and
    None returned.
    """
    try:
        vfs.mount(_lfs(bdev), path)
        return "mounted"
    except OSError:
        pass
    if _blank(bdev, bdev.ioctl(5, 0)):
        how = "formatted"
    elif format_unreadable:
        how = "reformatted"
    else:
        return None
    vfs.VfsLfs2.mkfs(bdev, **_LFS_ARGS)
    vfs.mount(_lfs(bdev), path)
    return how
