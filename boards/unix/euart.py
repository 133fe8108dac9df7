"""The twin's serial lines: a pair of emulated UARTs that pace bytes at the baud rate and garble mismatched framing."""
# Each end is an io.IOBase with ioctl polling, like machine.UART, so
# asyncio.StreamReader reads it as it reads a real UART. Bytes take their
# transmission time on the line (10 or 11 bit times each, on the injected
# clock), and an end whose baud rate or framing differs from the sender's
# receives garbage, which is what IEC 62056-21's baud-rate switch relies on
# getting right.
import io

_STEP = 256  # bytes an advance lets land at once, well inside the 1 KB receive buffer
_POLL = 3
_GET_FILENO = 10
_POLLIN = 1
_POLLOUT = 4


def _garble(data):
    return bytes(((b * 7) ^ 0xA5) & 0xFF for b in data)


class EUart(io.IOBase):
    def __init__(self, vclock, name="uart", rxbuf=1024):
        self._vc = vclock
        self.name = name
        self.peer = None
        self.rxbuf = rxbuf
        self._rx = bytearray()
        self._air = []  # [start_ms, ms_per_char, data, delivered, framing] in flight towards us
        self._tx_free = 0
        self.overruns = 0
        self.rx_bytes = 0
        self.tx_bytes = 0
        self.init()

    def init(self, baudrate=9600, bits=8, parity=None, stop=1, **kw):
        self.baudrate = baudrate
        self.framing = (baudrate, bits, parity, stop)
        self._char_ms = (1 + bits + (parity is not None) + stop) * 1000 / baudrate

    def write(self, buf):
        data = bytes(buf)
        if self.framing[1] == 7:
            data = bytes(b & 0x7F for b in data)
        now = self._vc.ms()
        start = max(now, self._tx_free)
        self._tx_free = start + len(data) * self._char_ms
        self.tx_bytes += len(data)
        if self.peer is not None and data:
            self.peer._air.append([start, self._char_ms, data, 0, self.framing])
        return len(data)

    def _land(self):
        if not self._air:
            return
        now = self._vc.ms()
        keep = []
        for c in self._air:
            start, per, data, done, framing = c
            n = min(len(data), int((now - start) / per + 1e-6)) if now > start else 0
            if n > done:
                part = data[done:n]
                if framing != self.framing:
                    part = _garble(part)
                room = self.rxbuf - len(self._rx)
                if len(part) > room:
                    self.overruns += len(part) - room
                    part = part[:room]
                self._rx += part
                self.rx_bytes += len(part)
                c[3] = n
            if c[3] < len(data):
                keep.append(c)
        self._air = keep

    def next_event(self):
        """Virtual ms at which the next batch of bytes in flight lands here, or None."""
        # Land what is due first: bytes due but unread are no event to wait
        # for, and reporting their (past) time would make advance spin.
        self._land()
        best = None
        for start, per, data, done, framing in self._air:
            t = start + min(len(data), done + _STEP) * per
            if best is None or t < best:
                best = t
        return best

    def ready_in_ms(self):
        """Virtual ms until a byte can be read here (0: now), or None if none is on its way."""
        if self._rx:
            return 0
        if not self._air:
            return None
        now = self._vc.ms()
        best = None
        for start, per, data, done, framing in self._air:
            t = start + (done + 1) * per - now
            if best is None or t < best:
                best = t
        return max(0, best)

    def any(self):
        self._land()
        return len(self._rx)

    def read(self, n=-1):
        self._land()
        if not self._rx:
            return None
        if n is None or n < 0 or n >= len(self._rx):
            out = bytes(self._rx)
            self._rx = bytearray()
        else:
            out = bytes(self._rx[:n])
            self._rx = self._rx[n:]
        return out

    def readinto(self, buf, nbytes=None):
        n = len(buf) if nbytes is None else nbytes
        data = self.read(n)
        if not data:
            return None
        buf[: len(data)] = data
        return len(data)

    def flush(self):
        pass

    def ioctl(self, req, arg):
        if req == _GET_FILENO:
            return -1  # no host descriptor: asyncio polls ioctl instead
        if req == _POLL:
            r = 0
            if arg & _POLLIN and self.any():
                r |= _POLLIN
            if arg & _POLLOUT:
                r |= _POLLOUT
            return r
        return 0

    def stats(self):
        return {"baud": self.baudrate, "rx": self.rx_bytes, "tx": self.tx_bytes, "overruns": self.overruns}


def pair(vclock, a="device", b="peer"):
    x = EUart(vclock, a)
    y = EUart(vclock, b)
    x.peer = y
    y.peer = x
    vclock.add_source(x)
    vclock.add_source(y)
    return x, y
