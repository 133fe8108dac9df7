"""IEC 62056-21 mode C client: sign-on, identification, rate switch and data readout with its BCC (clause 6.3)."""
# The module reads the meter over its internal connector, the way a hand-held
# reader reads the optical port: sign on at 300 baud 7E1, read the meter's
# identification (which names its fastest rate), acknowledge with the option
# select for a data readout at that rate, then collect STX .. ETX BCC into a
# buffer the caller owns. Every wait is bounded; every failure is an
# Iec21Error the caller turns into a retry and an event.
import asyncio

from firmware.compat import const

_STX = const(0x02)
_ETX = const(0x03)
_ACK = const(0x06)
_BAUDS = (300, 600, 1200, 2400, 4800, 9600)


class Iec21Error(Exception):
    pass


class _Rx:
    # Bytes from the link, with what arrived past the last stop byte kept
    # for the next read: a chunk often carries STX and the data behind it.
    def __init__(self, link):
        self.link = link
        self.rest = b""

    async def until(self, buf, pos, stop, timeout_ms):
        """Copies bytes into buf from pos up to and including `stop`; returns the new pos."""
        while True:
            chunk = self.rest
            self.rest = b""
            if not chunk:
                try:
                    chunk = await asyncio.wait_for_ms(self.link.read(64), timeout_ms)
                except asyncio.TimeoutError:
                    raise Iec21Error("timeout")
            k = chunk.find(bytes((stop,)))
            take = len(chunk) if k < 0 else k + 1
            if pos + take > len(buf):
                raise Iec21Error("reply too long")
            buf[pos : pos + take] = chunk[:take]
            pos += take
            if k >= 0:
                self.rest = chunk[take:]
                return pos

    async def byte(self, timeout_ms):
        if not self.rest:
            try:
                self.rest = await asyncio.wait_for_ms(self.link.read(1), timeout_ms)
            except asyncio.TimeoutError:
                raise Iec21Error("timeout")
        b = self.rest[0]
        self.rest = self.rest[1:]
        return b


def parse_ident(line):
    """b'/LGZ5ZMF100AC.M29\\r\\n' -> ('LGZ', 9600, 'ZMF100AC.M29')."""
    if len(line) < 7 or line[0] != 0x2F or not line.endswith(b"\r\n"):
        raise Iec21Error("bad identification")
    z = line[4] - 0x30
    if not 0 <= z <= 5:
        raise Iec21Error("not a mode C meter")
    return line[1:4].decode(), _BAUDS[z], line[5:-2].decode()


async def readout(link, buf, address="", max_baud=9600, timeout_ms=3000):
    """Read out the meter into buf; returns (manufacturer, ident, n) with the data set in buf[:n]."""
    link.configure(300, 7, 0, 1)
    link.discard_input()
    rx = _Rx(link)
    await link.write(b"/?" + address.encode() + b"!\r\n")
    pos = await rx.until(buf, 0, 0x0A, timeout_ms)
    manufacturer, baud, ident = parse_ident(bytes(buf[:pos]))
    baud = min(baud, max_baud)
    z = _BAUDS.index(baud) if baud in _BAUDS else 0
    await link.write(bytes((_ACK, 0x30, 0x30 + z, 0x30, 0x0D, 0x0A)))
    link.configure(baud, 7, 0, 1)
    # STX, then the data set up to and including ETX, then the BCC byte.
    rx.rest = b""  # anything before the switch arrived at the old rate
    start = await rx.until(buf, 0, _STX, timeout_ms)
    pos = await rx.until(buf, start, _ETX, timeout_ms)
    got = await rx.byte(timeout_ms)
    bcc = 0
    for i in range(start, pos):
        bcc ^= buf[i]
    if bcc != got:
        raise Iec21Error("BCC mismatch")
    link.configure(300, 7, 0, 1)
    # Move the data set to the front of buf, without its framing.
    n = pos - 1 - start
    buf[0:n] = buf[start : start + n]
    return manufacturer, ident, n


def data_lines(buf, n):
    """Yields (address, value, unit) of each data line, 'A.B.C(value*unit)'; stops at '!'."""
    i = 0
    mv = memoryview(buf)
    while i < n:
        j = i
        while j < n and buf[j] not in (0x0D, 0x0A):
            j += 1
        if j > i:
            line = bytes(mv[i:j])
            if line == b"!":
                return
            p = line.find(b"(")
            q = line.find(b")", p + 1)
            if p > 0 and q > p:
                v = line[p + 1 : q]
                star = v.find(b"*")
                if star >= 0:
                    yield line[:p].decode(), v[:star].decode(), v[star + 1 :].decode()
                else:
                    yield line[:p].decode(), v.decode(), ""
        i = j + 1
