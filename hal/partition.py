"""A block-device view of a range of a flash chip's blocks (MicroPython's extended block-device protocol)."""
# What vfs.VfsLfs2 needs of a block device: readblocks/writeblocks with a
# byte offset inside the block (writeblocks with an offset programs only,
# never erases) and ioctl 4 (block count), 5 (block size), 6 (erase one
# block); 1, 2 and 3 (init, deinit, sync) pass through to the chip.
# Every access is checked against the partition's bounds, so a file system
# or a ring that runs off its end fails with EIO instead of writing into the
# next partition (an application slot).

_IOCTL_BLOCK_COUNT = 4
_IOCTL_BLOCK_SIZE = 5
_IOCTL_BLOCK_ERASE = 6
_EIO = 5


class Partition:
    def __init__(self, dev, first, count):
        self.dev = dev
        self.first = first
        self.count = count
        self.bs = dev.ioctl(_IOCTL_BLOCK_SIZE, 0)
        if first < 0 or count <= 0 or first + count > dev.ioctl(_IOCTL_BLOCK_COUNT, 0):
            raise ValueError("partition beyond the chip")

    def _span(self, block, off, n):
        if block < 0 or off < 0 or (block * self.bs + off + n) > self.count * self.bs:
            raise OSError(_EIO)
        return self.first + block

    def readblocks(self, block, buf, off=0):
        self.dev.readblocks(self._span(block, off, len(buf)), buf, off)

    def writeblocks(self, block, buf, off=None):
        if off is None:  # the simple protocol: erase, then program whole blocks
            self.dev.writeblocks(self._span(block, 0, len(buf)), buf)
        else:
            self.dev.writeblocks(self._span(block, off, len(buf)), buf, off)

    def ioctl(self, op, arg):
        if op == _IOCTL_BLOCK_COUNT:
            return self.count
        if op == _IOCTL_BLOCK_ERASE:
            return self.dev.ioctl(op, self._span(arg, 0, self.bs))
        return self.dev.ioctl(op, arg)
