"""DLMS over TCP (IEC 62056-47 wrapper, manual 4.1): one connection at a time, dropped after the inactivity time."""
# "One connection is only allowed, other links are rejected": a second
# connection while one is open is closed at once and the first keeps going.
# "2N MeterCom PRO terminates communication in case no data are transmitted
# for 5 minutes": the inactivity time of TCP setup 0.0.25.0.0.255 (class 41,
# attribute 6), 300 s by default. Buffers are allocated once, for the one
# session there can be.
import asyncio

from firmware.dlms import server as srv
from firmware.dlms import wrapper

_SERVER_WPORT = 1  # the management logical device


class DlmsTcp:
    def __init__(self, net, server, port_fn, inactivity_fn):
        self.net = net
        self.server = server
        self.port_fn = port_fn  # the configured PORT, read at each (re)start
        self.inactivity_fn = inactivity_fn  # seconds
        self.inbuf = bytearray(srv.MAX_PDU + 16)
        self.outbuf = bytearray(srv.MAX_PDU + wrapper.HEADER_LEN)
        self.reasm = wrapper.Reassembler(srv.MAX_PDU)
        self.active = None  # the session's peer while one is open
        self.listening = None
        self.sessions = 0
        self.refused = 0
        self.timeouts = 0
        self.dropped = 0  # WPDUs for another logical device, or broken framing
        self.on_activity = None  # called with True/False: the CONN LED's source
        self._moved = None
        self._error = None

    async def run(self):
        while True:
            lst = await self.net.listen(self.port_fn())
            self.listening = lst.port
            self._moved = asyncio.Event()
            self._error = None
            acc = asyncio.create_task(self._accept(lst))
            try:
                await self._moved.wait()
            finally:
                # Cancelling takes the waiting task off the poller before its
                # socket closes; a session already open carries on.
                acc.cancel()
                lst.close()
                self.listening = None
            if self._error is not None:
                raise self._error

    def port_changed(self):
        """PORT changed in the configuration: listen on the new one now."""
        if self._moved is not None:
            self._moved.set()

    async def _accept(self, lst):
        try:
            while True:
                s = await lst.accept()
                if self.active is not None:
                    # A client that closed and reconnected at once: let the
                    # old session see its end before calling this a second link.
                    for _ in range(4):
                        await asyncio.sleep_ms(0)
                        if self.active is None:
                            break
                if self.active is not None:
                    self.refused += 1
                    await s.close()
                    continue
                self.active = s.peer or True
                asyncio.create_task(self._session(s))
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self._error = e
            self._moved.set()

    async def _session(self, s):
        self.sessions += 1
        sess = srv.Session()
        self.reasm.reset()
        if self.on_activity:
            self.on_activity(True)
        try:
            await self._serve(s, sess)
        except OSError:
            pass
        finally:
            self.active = None
            self.server.pump.stop()
            if self.on_activity:
                self.on_activity(False)
            await s.close()

    async def _serve(self, s, sess):
        buf = self.inbuf
        out = self.outbuf
        body = memoryview(out)[wrapper.HEADER_LEN :]
        while True:
            idle = self.inactivity_fn()
            try:
                if idle:
                    n = await asyncio.wait_for_ms(s.readinto(buf), idle * 1000)
                else:
                    n = await s.readinto(buf)  # 0: the timeout is off (Blue Book, class 41)
            except asyncio.TimeoutError:
                self.timeouts += 1
                return
            if not n:
                return
            try:
                for apdu in self.reasm.feed(memoryview(buf)[:n]):
                    src, dst = self.reasm.source, self.reasm.destination
                    if dst != _SERVER_WPORT:
                        self.dropped += 1
                        continue
                    if sess.client != src:
                        # A new client address on the same connection starts afresh.
                        sess.client = src
                        sess.reset()
                    k = self.server.handle(sess, apdu, body)
                    if k:
                        wrapper.encode_header(out, _SERVER_WPORT, src, k)
                        await s.write(memoryview(out)[: wrapper.HEADER_LEN + k])
            except wrapper.WrapperError:
                # A length beyond our PDU or a foreign version: say so if we
                # can, then close, since the stream cannot be resynchronised.
                self.dropped += 1
                k = self.server.too_long(sess, body)
                wrapper.encode_header(out, _SERVER_WPORT, sess.client or 0x10, k)
                await s.write(memoryview(out)[: wrapper.HEADER_LEN + k])
                return

    def status(self):
        return {
            "listening": self.listening,
            "active": str(self.active) if self.active else None,
            "sessions": self.sessions,
            "refused": self.refused,
            "timeouts": self.timeouts,
            "dropped": self.dropped,
            "server": self.server.stats,
        }
