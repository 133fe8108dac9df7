"""APDU transports of the DLMS client: HDLC over a UART-like stream (IEC 62056-46) and the TCP wrapper over a hal/transport stream (IEC 62056-47)."""
import asyncio

from firmware import clock
from firmware.compat import const
from firmware.dlms import hdlc, wrapper
from firmware.dlms import hdlc_link as hl
from firmware.dlms.client import LINK, PROTOCOL, TIMEOUT, DlmsError
from firmware.dlms.hdlc_client import HdlcClient

_CHUNK = const(128)


class HdlcTransport:
    """stream: async write(data) that returns once the bytes have left, async
    read(n) giving 1..n bytes as they arrive (hal/e350.E350Link), optionally
    discard_input(). The server is logical/physical (hdlc_client addressing).
    An answer that does not come within frame_timeout_ms of our last frame
    makes the link repeat that frame, up to `retries` times in a row; every
    exchange is also bounded by its caller's timeout_ms."""

    def __init__(self, stream, logical=1, physical=None, address_len=None, max_info=128, max_apdu=1024,
                 frame_timeout_ms=1500, retries=3, window_rx=1):
        self.s = stream
        self.link = HdlcClient(0x10, logical, physical, address_len, max_info, max_info, window_rx, max_apdu)
        self.deframer = hdlc.Deframer(self.link.max_frame())
        self.frame_timeout_ms = frame_timeout_ms
        self.retries = retries
        self.timeouts = 0

    def _fresh(self):
        # Whatever arrived before our next frame is stale.
        self.deframer.reset()
        if hasattr(self.s, "discard_input"):
            self.s.discard_input()

    def _bound(self):
        return self.frame_timeout_ms * (self.retries + 1)

    async def open(self, client_sap):
        """SNRM/UA as client_sap; DlmsError(LINK) if the server answers DM."""
        self._fresh()
        await self.s.write(self.link.connect(client_sap))
        ev = await self._wait(self._bound())
        if ev != hl.CONNECTED:
            raise DlmsError(LINK)

    async def close(self):
        """DISC; a server that does not answer is left behind (it drops the link on its inactivity time-out)."""
        if self.link.state == hl.NDM:
            return
        self._fresh()
        await self.s.write(self.link.disconnect())
        try:
            await self._wait(self._bound())
        except DlmsError:
            pass
        self.link.state = hl.NDM

    async def send_apdu(self, apdu):
        if not self.link.connected:
            raise DlmsError(LINK)
        self._fresh()
        await self.s.write(self.link.send(apdu))

    async def recv_apdu(self, timeout_ms):
        ev = await self._wait(timeout_ms)
        if ev != hl.APDU:
            raise DlmsError(LINK)
        return self.link.apdu

    async def _wait(self, timeout_ms):
        # Frames in, answers out, until the link reports an outcome.
        link = self.link
        t0 = last = clock.ticks_ms()
        tries = 0
        while True:
            now = clock.ticks_ms()
            left = timeout_ms - clock.ticks_diff(now, t0)
            wait = self.frame_timeout_ms - clock.ticks_diff(now, last)
            if left <= 0:
                self.timeouts += 1
                raise DlmsError(TIMEOUT)
            if wait <= 0:
                if tries >= self.retries:
                    self.timeouts += 1
                    raise DlmsError(TIMEOUT)
                tries += 1
                self.deframer.reset()  # a frame cut short will not be completed
                await self.s.write(link.retransmit())
                last = clock.ticks_ms()
                continue
            try:
                data = await asyncio.wait_for_ms(self.s.read(_CHUNK), min(wait, left))
            except asyncio.TimeoutError:
                continue
            if not data:
                await asyncio.sleep_ms(1)
                continue
            result = hl.NONE
            for f in self.deframer.feed(data):
                if result != hl.NONE:
                    continue  # the outcome is known: the rest is stale
                ev = link.receive(f)
                if ev == hl.SEND:
                    await self.s.write(link.out)
                    last = clock.ticks_ms()
                    tries = 0
                elif ev != hl.NONE:
                    result = ev
            if result != hl.NONE:
                return result


class WrapperTransport:
    """stream: a hal/transport Stream (async readinto(buf), 0 when the peer
    closed; async write(data)). server_wport: the logical device addressed."""

    def __init__(self, stream, server_wport=1, max_apdu=1024):
        self.s = stream
        self.server = server_wport
        self.client = 0x10
        self.reasm = wrapper.Reassembler(max_apdu)
        self._in = bytearray(256)
        self._out = bytearray(wrapper.HEADER_LEN + max_apdu)
        self._gen = None  # the reassembler's walk over the last chunk read

    async def open(self, client_sap):
        self.client = client_sap
        self.reasm.reset()
        self._gen = None

    async def close(self):
        pass  # the TCP connection belongs to whoever opened it

    async def send_apdu(self, apdu):
        n = len(apdu)
        if n > len(self._out) - wrapper.HEADER_LEN:
            raise DlmsError(PROTOCOL)
        p = wrapper.encode_header(self._out, self.client, self.server, n)
        self._out[p : p + n] = apdu
        try:
            await self.s.write(memoryview(self._out)[: p + n])
        except OSError:
            raise DlmsError(LINK)

    async def recv_apdu(self, timeout_ms):
        t0 = clock.ticks_ms()
        while True:
            g = self._gen
            if g is not None:
                try:
                    mv = next(g)
                except StopIteration:
                    self._gen = None
                    continue
                except wrapper.WrapperError:
                    self._gen = None
                    raise DlmsError(PROTOCOL)
                if self.reasm.source == self.server and self.reasm.destination == self.client:
                    return mv
                continue  # for another wPort: not ours
            left = timeout_ms - clock.ticks_diff(clock.ticks_ms(), t0)
            if left <= 0:
                raise DlmsError(TIMEOUT)
            try:
                n = await asyncio.wait_for_ms(self.s.readinto(self._in), left)
            except asyncio.TimeoutError:
                raise DlmsError(TIMEOUT)
            if not n:
                raise DlmsError(LINK)
            self._gen = self.reasm.feed(memoryview(self._in)[:n])
