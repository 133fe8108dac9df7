"""The twin's network sandbox: the one place that opens host sockets, all of them on 127.0.0.0/8."""
# Listeners bind 127.0.0.1 only. Outgoing connections go through a route
# table (--route 10.0.25.30:58600=127.0.0.1:PORT) whose targets must be
# loopback; an address without a route is unreachable, exactly as a server
# that cannot be reached in the field. Names are resolved only through the
# same table (--route name=10.0.25.30), never by DNS.
import socket

import asyncio

from hal.transport import SocketListener, SocketStream

ENETUNREACH = 101
EAI_NONAME = -2


def _is_ipv4(s):
    p = s.split(".")
    if len(p) != 4:
        return False
    for x in p:
        if not x.isdigit() or int(x) > 255 or (len(x) > 1 and x[0] == "0"):
            return False
    return True


def _loopback(ip):
    return _is_ipv4(ip) and ip.split(".")[0] == "127"


def _hostport(s):
    h, _, p = s.rpartition(":")
    if not h or not p.isdigit() or not 0 < int(p) < 65536:
        raise ValueError("expected HOST:PORT, got %r" % s)
    return h, int(p)


class Sandbox:
    def __init__(self, routes=(), listen_port=None):
        self.routes = {}  # (ip, port) -> (loopback ip, port)
        self.names = {}  # name -> ip
        self.listen_port = listen_port  # host port for the device's listener
        self.log = []  # (what, address) of every socket opened, for `status`
        for r in routes:
            self.add_route(r)

    def add_route(self, spec):
        left, sep, right = spec.partition("=")
        if not sep:
            raise ValueError("route needs '=': %r" % spec)
        if ":" not in left:
            if not _is_ipv4(right):
                raise ValueError("a name routes to an IPv4 address: %r" % spec)
            self.names[left] = right
            return
        dst = _hostport(right)
        if not _loopback(dst[0]):
            raise ValueError("route target must lie in 127.0.0.0/8: %r" % spec)
        src = _hostport(left)
        if not _is_ipv4(src[0]):
            raise ValueError("route source is IP:PORT (names go in NAME=IP): %r" % spec)
        self.routes[src] = dst

    def resolve(self, name):
        if _is_ipv4(name):
            return name
        ip = self.names.get(name)
        if ip is None:
            self.log.append(("unresolved", name))
            raise OSError(EAI_NONAME)
        return ip

    def _addr(self, ip, port):
        # Numeric loopback only: getaddrinfo never leaves the process for it.
        assert _loopback(ip)
        return socket.getaddrinfo(ip, port, 0, socket.SOCK_STREAM)[0][-1]

    async def connect(self, host, port, timeout_ms=30000):
        """The device's outgoing connection: routed to loopback, or unreachable."""
        ip = self.resolve(host)
        dst = self.routes.get((ip, port))
        if dst is None:
            self.log.append(("unreachable", "%s:%d" % (ip, port)))
            raise OSError(ENETUNREACH)
        self.log.append(("connect", "%s:%d->%s:%d" % (ip, port, dst[0], dst[1])))
        return await self._dial(dst[0], dst[1], (ip, port), timeout_ms)

    async def connect_internal(self, port):
        """The twin's own plumbing (the control link to its supervisor)."""
        self.log.append(("internal", "127.0.0.1:%d" % port))
        return await self._dial("127.0.0.1", port, ("127.0.0.1", port), 5000)

    async def _dial(self, ip, port, peer, timeout_ms):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(self._addr(ip, port))
        except OSError as e:
            if e.args[0] != 115:  # EINPROGRESS
                s.close()
                raise
        st = SocketStream(s, peer)
        try:
            await asyncio.wait_for_ms(st.wait_writable(), timeout_ms)
        except asyncio.TimeoutError:
            await st.close()
            raise OSError(110)  # ETIMEDOUT
        return st

    async def listen(self, port, backlog=2):
        """The device's listening socket: 127.0.0.1 only; --dlms-port maps its host port."""
        host_port = self.listen_port or port
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(self._addr("127.0.0.1", host_port))
            s.listen(backlog)
        except OSError:
            s.close()
            raise
        s.setblocking(False)
        self.log.append(("listen", "127.0.0.1:%d" % host_port))
        return SocketListener(s, host_port)

    def internal_socket(self, port):
        """A blocking loopback socket to the supervisor, for the twin's wires (watchdog, reset, power)."""
        self.log.append(("internal", "127.0.0.1:%d" % port))
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.connect(self._addr("127.0.0.1", port))
        return s
