"""The twin's flash chip: a file-backed NOR block device for littlefs that can lose power mid-write."""
# NOR semantics, because littlefs relies on them: erase sets a block to 0xFF,
# programming can only clear bits (the file gets old AND new). The power can
# be cut at the N-th program or erase, half-way through it: the first half of
# the bytes reach the file, the rest never do, and every later access fails.
from array import array

_IOCTL_BLOCK_COUNT = 4
_IOCTL_BLOCK_SIZE = 5
_IOCTL_BLOCK_ERASE = 6
_EIO = 5


class PowerCut(Exception):
    pass


class FlashBlockDev:
    def __init__(self, path, block_size=4096, block_count=2048, on_cut=None):
        self.bs = block_size
        self.n = block_count
        self.on_cut = on_cut
        self.writes = 0  # programs + erases since power-on
        self.cut_at = None
        self.dead = False
        self.erases = array("I", bytes(4 * block_count))  # wear, per block
        try:
            self.f = open(path, "r+b")
            self.f.seek(0, 2)
            if self.f.tell() != block_size * block_count:
                raise ValueError(
                    "flash image %s is not %d x %d bytes (boards/layout.py): delete it for a blank chip"
                    % (path, block_count, block_size)
                )
        except OSError:
            self.f = open(path, "w+b")
            ff = b"\xff" * block_size
            for _ in range(block_count):
                self.f.write(ff)
            self.f.flush()
        self._tmp = bytearray(block_size)

    def arm(self, n):
        """Cut the power at the n-th write from now (1 = the next one)."""
        self.cut_at = self.writes + n

    def _check(self):
        if self.dead:
            raise OSError(_EIO)

    def _count(self):
        # True when this write is the one the power dies in.
        self.writes += 1
        return self.cut_at is not None and self.writes >= self.cut_at

    def _cut(self):
        self.dead = True
        self.f.flush()
        if self.on_cut:
            self.on_cut()  # in the twin: never returns
        raise PowerCut()

    def readblocks(self, block, buf, off=0):
        self._check()
        self.f.seek(block * self.bs + off)
        self.f.readinto(buf)

    def writeblocks(self, block, buf, off=None):
        self._check()
        if off is None:  # simple interface: erase, then program the whole block
            self._erase(block)
            off = 0
        n = len(buf)
        cut = self._count()
        if cut:
            n //= 2
        pos = block * self.bs + off
        old = memoryview(self._tmp)[:n]
        self.f.seek(pos)
        self.f.readinto(old)
        if n:
            # AND of old and new in one big-int step: a Python loop over 4 KB
            # per program would dominate the twin's run time.
            old[:] = (int.from_bytes(old, "big") & int.from_bytes(bytes(buf[:n]), "big")).to_bytes(n, "big")
        self.f.seek(pos)
        self.f.write(old)
        if cut:
            self._cut()
        self.f.flush()

    def _erase(self, block):
        cut = self._count()
        n = self.bs // 2 if cut else self.bs
        self.f.seek(block * self.bs)
        self.f.write(b"\xff" * n)
        self.erases[block] += 1
        if cut:
            self._cut()
        self.f.flush()

    def ioctl(self, op, arg):
        if op == _IOCTL_BLOCK_COUNT:
            return self.n
        if op == _IOCTL_BLOCK_SIZE:
            return self.bs
        if op == _IOCTL_BLOCK_ERASE:
            self._check()
            self._erase(arg)
            return 0
        return 0

    def close(self):
        self.f.close()

    def wear(self):
        """(max, total) erase counts since power-on."""
        return max(self.erases), sum(self.erases)
