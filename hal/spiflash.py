"""JEDEC SPI NOR flash as a littlefs block device (Winbond W25Q128JV datasheet: the 25-series commands, 3-byte addresses)."""
# The commands every 25-series NOR with 4 KB sectors shares: 9Fh JEDEC ID,
# 03h read, 06h write enable, 02h page program (256 bytes, wrapping inside
# the page: so a write is cut at page boundaries here), 20h 4 KB sector
# erase, 05h status register 1 (bit 0 BUSY, bit 1 WEL), B9h power-down and
# ABh release, 66h+99h software reset. 3-byte addresses reach 16 MB, the
# W25Q128JV's size; bigger chips need the 4-byte commands.
#
# As a block device it speaks MicroPython's extended protocol (the one
# vfs.VfsLfs2 uses): readblocks(block, buf, offset), writeblocks(block, buf,
# offset) that only programs (littlefs erases through ioctl 6 first), and
# ioctl 1-6. The simple protocol (writeblocks without an offset) erases and
# programs whole blocks.
#
# Busy waits are bounded by the datasheet's maxima (page program 3 ms, sector
# erase 400 ms) with margin: a chip that stays busy raises ETIMEDOUT instead
# of hanging the device until the watchdog bites. A sector erase yields the
# CPU in 1 ms sleeps; a page program is short enough to poll. Time is read
# through the `time` module's MicroPython functions (ticks_ms, ticks_diff,
# sleep_ms); CPython tests put a fake clock in its place.
import time

try:
    from micropython import const
except ImportError:  # CPython, for the unit tests

    def const(x):  # type: ignore[misc]  # CPython's stand-in for the compile-time const
        return x


_CMD_READ = const(0x03)
_CMD_PROGRAM = const(0x02)
_CMD_ERASE_4K = const(0x20)
_CMD_WREN = const(0x06)
_CMD_RDSR1 = const(0x05)
_CMD_JEDEC = const(0x9F)
_CMD_POWER_DOWN = const(0xB9)
_CMD_RELEASE = const(0xAB)
_CMD_RESET_ENABLE = const(0x66)
_CMD_RESET = const(0x99)

_SR_BUSY = const(0x01)
_SR_WEL = const(0x02)

_PAGE = const(256)
_SECTOR = const(4096)

_PROGRAM_MS = const(10)  # datasheet tPP max 3 ms
_ERASE_MS = const(1000)  # datasheet tSE max 400 ms

_ENODEV = const(19)
_EIO = const(5)
_ETIMEDOUT = const(110)


class SpiFlash:
    """A 25-series SPI NOR on a machine.SPI bus with its own chip-select machine.Pin.

    The bus must be in mode 0 (polarity 0, phase 0) or 3, MSB first, at up to
    50 MHz (the 03h read's limit). `blocks` limits the device to the first
    blocks of the chip; by default the whole chip as its JEDEC capacity says.
    """

    def __init__(self, spi, cs, blocks=None):
        self.spi = spi
        self.cs = cs
        self.cs.value(1)
        self._cmd = bytearray(4)
        self._cmd1 = memoryview(self._cmd)[:1]
        self._one = bytearray(1)
        self._asleep = True  # unknown after an MCU reset: wake it to be sure
        self.wake()
        mfr, kind, cap = self.jedec_id()
        if mfr in (0x00, 0xFF):
            # A chip still busy with an erase the MCU's reset interrupted
            # ignores 9Fh: let it finish, then ask again.
            try:
                self._wait(_ERASE_MS, True)
            except OSError:
                pass  # nothing on the bus reads as BUSY for ever
            mfr, kind, cap = self.jedec_id()
        if mfr in (0x00, 0xFF) or not 0x10 <= cap <= 0x18:
            raise OSError(_ENODEV)  # no chip answers, or one this driver cannot address
        self.id = (mfr, kind, cap)
        self.size = 1 << cap
        self.n = self.size // _SECTOR if blocks is None else blocks
        if self.n * _SECTOR > self.size:
            raise ValueError("more blocks than the chip has")
        self.erases = 0
        self.programs = 0

    # -- bus primitives --
    def _begin(self, cmd, addr=None):
        c = self._cmd
        c[0] = cmd
        self.cs.value(0)
        if addr is None:
            self.spi.write(self._cmd1)
        else:
            c[1] = (addr >> 16) & 0xFF
            c[2] = (addr >> 8) & 0xFF
            c[3] = addr & 0xFF
            self.spi.write(c)

    def _end(self):
        self.cs.value(1)

    def _simple(self, cmd):
        self._begin(cmd)
        self._end()

    def status(self):
        """Status register 1."""
        self._begin(_CMD_RDSR1)
        self.spi.readinto(self._one)
        self._end()
        return self._one[0]

    def _wait(self, limit_ms, nap):
        t0 = time.ticks_ms()
        while self.status() & _SR_BUSY:
            if time.ticks_diff(time.ticks_ms(), t0) > limit_ms:
                raise OSError(_ETIMEDOUT)
            if nap:
                time.sleep_ms(1)

    def _write_enable(self):
        self._wait(_ERASE_MS, True)  # a busy chip ignores WREN (one status read when idle)
        self._simple(_CMD_WREN)
        if not self.status() & _SR_WEL:
            raise OSError(_EIO)  # write-protected, or no chip

    # -- chip commands --
    def jedec_id(self):
        """(manufacturer, memory type, capacity code): Winbond W25Q128JV answers (0xEF, 0x40, 0x18)."""
        b = bytearray(3)
        self._begin(_CMD_JEDEC)
        self.spi.readinto(b)
        self._end()
        return b[0], b[1], b[2]

    def reset(self):
        """Software reset (66h, 99h): ends any half-sent command; the chip needs 30 us after it."""
        self._simple(_CMD_RESET_ENABLE)
        self._simple(_CMD_RESET)
        time.sleep_ms(1)

    def sleep(self):
        """Deep power-down (B9h): a few uA; only ABh wakes it."""
        if not self._asleep:
            self._simple(_CMD_POWER_DOWN)
            self._asleep = True

    def wake(self):
        """Release from power-down (ABh); the chip takes 3 us (tRES1)."""
        self._simple(_CMD_RELEASE)
        self._asleep = False
        time.sleep_ms(1)

    def read(self, addr, buf):
        if self._asleep:
            self.wake()
        self._begin(_CMD_READ, addr)
        self.spi.readinto(buf)
        self._end()

    def program(self, addr, data):
        """Program data at addr (bits can only go from 1 to 0), one page at a time."""
        if self._asleep:
            self.wake()
        mv = memoryview(data)
        n = len(mv)
        pos = 0
        while pos < n:
            chunk = min(_PAGE - (addr + pos) % _PAGE, n - pos)
            self._write_enable()
            self._begin(_CMD_PROGRAM, addr + pos)
            self.spi.write(mv[pos : pos + chunk])
            self._end()
            self.programs += 1
            self._wait(_PROGRAM_MS, False)
            pos += chunk

    def erase(self, addr):
        """Erase the 4 KB sector holding addr (every byte back to 0xFF)."""
        if self._asleep:
            self.wake()
        self._write_enable()
        self._begin(_CMD_ERASE_4K, addr - addr % _SECTOR)
        self._end()
        self.erases += 1
        self._wait(_ERASE_MS, True)

    # -- block device (MicroPython's extended protocol) --
    def _addr(self, block, off, n):
        if block < 0 or off < 0 or block * _SECTOR + off + n > self.n * _SECTOR:
            raise OSError(_EIO)
        return block * _SECTOR + off

    def readblocks(self, block, buf, off=0):
        self.read(self._addr(block, off, len(buf)), buf)

    def writeblocks(self, block, buf, off=None):
        if off is None:  # simple protocol: whole blocks, erased first
            a = self._addr(block, 0, len(buf))
            for s in range(0, len(buf), _SECTOR):
                self.erase(a + s)
            self.program(a, buf)
        else:
            self.program(self._addr(block, off, len(buf)), buf)

    def ioctl(self, op, arg):
        if op == 1:  # init
            if self._asleep:
                self.wake()
            return 0
        if op == 4:  # block count
            return self.n
        if op == 5:  # block size
            return _SECTOR
        if op == 6:  # erase a block
            self.erase(self._addr(arg, 0, _SECTOR))
            return 0
        return 0  # deinit, sync: nothing is cached here
