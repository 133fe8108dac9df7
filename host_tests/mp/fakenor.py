# A fake SPI bus with a 25-series NOR flash on it (the W25Q128JV command set), for hal/spiflash.py's tests.
# Runs on CPython and on the MicroPython unix port. It behaves as the chip
# does where a driver can get it wrong: a page program wraps inside its
# 256-byte page, programming only clears bits, a program or erase needs the
# write-enable latch and clears it, every command but 05h is ignored while
# BUSY, and only ABh is heard in deep power-down (MISO then floats high).
# What the real chip would have ignored is also recorded in `violations`.
# Memory is kept per 4 KB sector, only for sectors that were programmed, so a
# 16 MB chip costs what is written to it.


class FakeCS:
    """machine.Pin for chip select: a falling edge starts a command, a rising edge ends it."""

    def __init__(self, chip):
        self.chip = chip
        self.level = 1

    def value(self, v=None):
        if v is None:
            return self.level
        v = 1 if v else 0
        if v != self.level:
            self.level = v
            if v:
                self.chip._end()
            else:
                self.chip._begin()
        return None

    __call__ = value


class FakeNor:
    """machine.SPI with one NOR chip of `size` bytes; `busy_polls` status reads pass before a write completes."""

    def __init__(self, size=1 << 18, jedec=None, busy_polls=2):
        cap = 0
        while (1 << cap) < size:
            cap += 1
        self.id = bytes(jedec) if jedec else bytes((0xEF, 0x40, cap))
        self.size = size
        self.sectors = {}  # sector number -> bytearray(4096); absent = erased
        self.busy_polls = busy_polls
        self.cs = FakeCS(self)
        self.stuck = False  # BUSY never clears (a dead chip)
        self.absent = False  # nothing on the bus: MISO floats high
        self.asleep = False
        self.wel = False
        self.busy = 0
        self.reset_armed = False
        self.rx = bytearray()  # bytes clocked in during this command
        self.out = 0  # bytes clocked out during this command
        self.violations = []
        self.erases = {}  # sector -> erase count
        self.programs = 0

    # -- machine.SPI --
    def write(self, buf):
        self._clock_in(buf)

    def readinto(self, buf, write_byte=0):
        for i in range(len(buf)):
            buf[i] = self._next_out()
        self._clock_in(bytes((write_byte,)) * len(buf))

    def write_readinto(self, wbuf, rbuf):
        for i in range(len(rbuf)):
            rbuf[i] = self._next_out()
        self._clock_in(wbuf)

    # -- the chip --
    def _clock_in(self, data):
        if self.cs.level:
            self.violations.append("bytes sent with CS high")
            return
        self.rx.extend(data)

    def _begin(self):
        self.rx = bytearray()
        self.out = 0

    def _addr(self):
        return (self.rx[1] << 16) | (self.rx[2] << 8) | self.rx[3]

    def _status(self):
        s = 0
        if self.busy or self.stuck:
            s |= 1
        if self.wel:
            s |= 2
        return s

    def _next_out(self):
        if self.absent or self.asleep or not self.rx:
            return 0xFF
        cmd = self.rx[0]
        i = self.out
        self.out += 1
        if cmd == 0x05:
            return self._status()
        if self.busy or self.stuck:
            return 0xFF
        if cmd == 0x9F:
            return self.id[i % 3]
        if cmd == 0x03 and len(self.rx) >= 4:
            a = (self._addr() + i) % self.size
            sec = self.sectors.get(a >> 12)
            return 0xFF if sec is None else sec[a & 0xFFF]
        return 0xFF

    def peek(self, addr, n):
        """n bytes of the chip's memory from addr, without a bus transaction."""
        out = bytearray(n)
        for i in range(n):
            sec = self.sectors.get((addr + i) >> 12)
            out[i] = 0xFF if sec is None else sec[(addr + i) & 0xFFF]
        return bytes(out)

    def _end(self):
        rx = self.rx
        if not rx or self.absent:
            return
        cmd = rx[0]
        if self.asleep:
            if cmd == 0xAB:
                self.asleep = False
            return
        if cmd == 0x05:
            if self.busy:
                self.busy -= 1
            return
        if self.busy or self.stuck:
            self.violations.append("command %02Xh while busy" % cmd)
            return
        if cmd == 0x06:
            self.wel = True
        elif cmd == 0x02:
            self._program(rx)
        elif cmd == 0x20:
            self._erase(rx)
        elif cmd == 0xB9:
            self.asleep = True
        elif cmd == 0x66:
            self.reset_armed = True
            return
        elif cmd == 0x99 and self.reset_armed:
            self.wel = False
        self.reset_armed = False

    def _program(self, rx):
        if not self.wel or len(rx) < 4:
            self.violations.append("page program without write enable")
            return
        a = self._addr()
        page = a - a % 256
        data = rx[4:]
        if len(data) > 256:
            data = data[len(data) - 256 :]  # the chip keeps the last 256 bytes clocked in
        sec = self.sectors.get(page >> 12)
        if sec is None:
            sec = self.sectors[page >> 12] = bytearray(b"\xff" * 4096)
        base = page & 0xFFF
        for i in range(len(data)):
            p = base + (a + i) % 256  # wraps inside the page, as the chip does
            sec[p] &= data[i]
        self.programs += 1
        self.wel = False
        self.busy = self.busy_polls

    def _erase(self, rx):
        if not self.wel or len(rx) < 4:
            self.violations.append("erase without write enable")
            return
        s = (self._addr() % self.size) // 4096
        if s in self.sectors:
            del self.sectors[s]
        self.erases[s] = self.erases.get(s, 0) + 1
        self.wel = False
        self.busy = self.busy_polls
