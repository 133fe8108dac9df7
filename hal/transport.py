"""Byte-stream transport used by DLMS, HTTP and the twin's control link: the interface and its socket form."""
# The interface (duck-typed, as MicroPython code is):
#   stream.peer                  (host, port) of the other end, for logs
#   await stream.readinto(buf)   bytes read into buf; 0 means the peer closed
#   await stream.write(data)     all of data sent (waits while the link is busy)
#   await stream.close()         idempotent
#   await listener.accept()      the next incoming Stream
#   listener.close()
#   await net.connect(host, port, timeout_ms)   a Stream, or OSError
#   await net.listen(port)                      a Listener, or OSError
#   net.resolve(name)                           dotted IPv4, or OSError
# Implemented here over lwIP/host sockets (network.LAN on a board, the
# sandbox in the twin), and by the Telit driver over the modem's sockets.
import asyncio

try:
    import asyncio.core as _core  # type: ignore[import-not-found]  # MicroPython's asyncio internals: not in the stubs
except ImportError:  # CPython never runs this module, but imports it in tests
    _core = None


class _Ready:
    # The wait asyncio's own streams use: park the task until the socket is
    # readable (or writable), without a polling timer. An awaitable object
    # rather than a yield in an async def, which CPython would not compile.
    __slots__ = ("s", "w")

    def __init__(self, s, w=False):
        self.s = s
        self.w = w

    def __await__(self):
        if self.w:
            yield _core._io_queue.queue_write(self.s)
        else:
            yield _core._io_queue.queue_read(self.s)

    __iter__ = __await__


class SocketStream:
    def __init__(self, sock, peer=None):
        self._s = sock
        # MicroPython's StreamReader and StreamWriter are one class (Stream);
        # one of each over the socket says which side each call uses.
        self._rd = asyncio.StreamReader(sock)
        self._wr = asyncio.StreamWriter(sock)
        self.peer = peer
        self.closed = False

    async def wait_writable(self):
        """After a non-blocking connect: wait for it to complete, raise OSError if it failed."""
        await _Ready(self._s, True)
        # A zero-length send surfaces a pending error (ECONNREFUSED) now
        # instead of at the first real write.
        self._s.send(b"")

    async def readinto(self, buf):
        if self.closed:
            return 0
        try:
            n = await self._rd.readinto(buf)
        except OSError:
            n = 0  # a reset is a close, as far as the protocols above care
        return n or 0

    async def write(self, data):
        if self.closed:
            raise OSError(32)  # EPIPE
        self._wr.write(data)
        await self._wr.drain()

    async def close(self):
        if not self.closed:
            self.closed = True
            try:
                self._wr.close()
                await self._wr.wait_closed()
            except OSError:
                pass


class SocketListener:
    def __init__(self, sock, port):
        self._s = sock
        self.port = port
        self.closed = False

    async def accept(self):
        while True:
            await _Ready(self._s)
            if self.closed:
                raise OSError(9)  # EBADF
            try:
                s2, addr = self._s.accept()
            except OSError:
                continue
            s2.setblocking(False)
            return SocketStream(s2, addr)

    def close(self):
        if not self.closed:
            self.closed = True
            self._s.close()
