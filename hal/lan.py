"""The Ethernet uplink: network.LAN and lwIP sockets behind the byte-stream interface of hal/transport.py."""
# The ETH variant's `net`: connect/listen/resolve as hal/transport.py
# describes them, over the MCU's own TCP/IP stack. The NIC is any
# network.AbstractNIC (network.LAN on the STM32 boards): DHCP runs when it
# goes active, and a later ipconfig() can fix the address.
#
# getaddrinfo on a name blocks the whole device while lwIP asks DNS (up to
# its own timeout, several seconds); a dotted address never leaves the MCU.
# Configured servers are IP addresses in the manual's examples, so names are
# the exception.
import socket

import asyncio

from hal.transport import SocketListener, SocketStream

_EINPROGRESS = 115
_ETIMEDOUT = 110


class LanNet:
    def __init__(self, nic, bind_ip="0.0.0.0"):
        self.nic = nic
        self.bind_ip = bind_ip  # where listeners bind: every interface, or one address (tests: loopback)

    def up(self):
        """Bring the link up; the address comes by DHCP."""
        self.nic.active(True)

    def connected(self):
        return bool(self.nic.isconnected())

    def address(self):
        """The interface's IPv4 address, or None before DHCP has given one."""
        ip = self.nic.ifconfig()[0]
        return None if ip == "0.0.0.0" else ip

    def resolve(self, name):
        a = socket.getaddrinfo(name, 0, 0, socket.SOCK_STREAM)[0][-1]
        if isinstance(a, tuple):  # lwIP: (address, port)
            return a[0]
        return "%d.%d.%d.%d" % (a[4], a[5], a[6], a[7])  # the unix port: a raw sockaddr_in

    async def connect(self, host, port, timeout_ms=30000):
        """An outgoing TCP connection as a SocketStream; OSError when it cannot be made in time."""
        addr = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0][-1]
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(addr)
        except OSError as e:
            if e.args[0] != _EINPROGRESS:
                s.close()
                raise
        st = SocketStream(s, (host, port))
        try:
            await asyncio.wait_for_ms(st.wait_writable(), timeout_ms)
        except asyncio.TimeoutError:
            await st.close()
            raise OSError(_ETIMEDOUT)
        return st

    async def listen(self, port, backlog=2):
        """A listening socket on port, as a SocketListener."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(socket.getaddrinfo(self.bind_ip, port, 0, socket.SOCK_STREAM)[0][-1])
            s.listen(backlog)
        except OSError:
            s.close()
            raise
        s.setblocking(False)
        return SocketListener(s, port)
