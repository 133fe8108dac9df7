# hal/lan.py over the unix port's sockets, on loopback only: listen, connect, bytes both ways, a refused connection.
import asyncio

from hal.lan import LanNet


class FakeNic:
    def __init__(self):
        self.up = False

    def active(self, v=None):
        if v is None:
            return self.up
        self.up = bool(v)
        return None

    def isconnected(self):
        return self.up

    def ifconfig(self):
        return ("127.0.0.1" if self.up else "0.0.0.0", "255.0.0.0", "0.0.0.0", "0.0.0.0")


async def _listen(net):
    for port in range(47100, 47200):
        try:
            return await net.listen(port), port
        except OSError:
            pass
    raise OSError("no free port")


async def test_lan_streams_on_loopback():
    net = LanNet(FakeNic(), bind_ip="127.0.0.1")
    assert net.address() is None and not net.connected()
    net.up()
    assert net.connected() and net.address() == "127.0.0.1"
    assert net.resolve("127.0.0.1") == "127.0.0.1"
    lst, port = await _listen(net)
    accepted = asyncio.create_task(lst.accept())
    out = await net.connect("127.0.0.1", port, 2000)
    inp = await accepted
    await out.write(b"\x00\x01\x00\x10")
    buf = bytearray(16)
    n = await inp.readinto(buf)
    assert bytes(buf[:n]) == b"\x00\x01\x00\x10"
    await inp.write(b"pong")
    n = await out.readinto(buf)
    assert bytes(buf[:n]) == b"pong"
    await out.close()
    assert await inp.readinto(buf) == 0  # the peer closed
    await inp.close()
    lst.close()
    try:
        await net.connect("127.0.0.1", port, 2000)  # nobody listens any more
        assert False, "connected to a closed port"
    except OSError:
        pass
