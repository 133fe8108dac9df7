# The twin's E350 over its emulated UART, read by the firmware's IEC 62056-21 client.
import asyncio

from boards.unix import euart
from boards.unix.e350sim import E350Sim
from boards.unix.vclock import VClock
from firmware import clock
from firmware.meter import iec21
from hal.e350 import E350Link


class _Rtc:
    def datetime(self, dt=None):
        return (2026, 11, 25, 3, 12, 0, 0, 0)

    def valid(self):
        return True

    def set_valid(self):
        pass


async def _in_time(vc, coro, ms=20000):
    # Run coro while the injected clock moves ms ahead: a readout at 300 and
    # 9600 baud takes seconds of device time and no host time.
    t = asyncio.create_task(coro)
    await vc.advance(ms)
    assert t.done(), "still running after %d ms" % ms
    return await t


def _setup(tag):
    from boards.unix import evpoll

    evpoll.install()
    vc = VClock((1 << 30) - 2000)
    clock.init(vc, _Rtc())
    dev, far = euart.pair(vc)
    path = "/tmp/mpt_meter_%s_%d.json" % (tag, vc.ticks_ms())
    sim = E350Sim(far, vc, _Rtc(), path)
    return vc, dev, sim, path


async def test_readout_through_the_uart():
    vc, dev, sim, path = _setup("a")
    t = asyncio.create_task(sim.run())
    link = E350Link(dev)
    buf = bytearray(8192)
    man, ident, n = await _in_time(vc, iec21.readout(link, buf, "11620371"))
    assert man == "LGZ" and ident == "ZMF100AC.M29", (man, ident)
    vals = {a: (v, u) for a, v, u in iec21.data_lines(buf, n)}
    assert vals["C.1.0"] == ("11620371", ""), vals
    assert vals["32.7.0"][1] == "V" and 225 < float(vals["32.7.0"][0]) < 235
    assert vals["1.8.0"][1] == "kWh"
    e0 = float(vals["1.8.0"][0])
    assert sim.readouts == 1 and sim.errors == 0
    assert dev.baudrate == 300  # back at the sign-on rate
    # an hour of ~2.3 kW load on the injected clock
    await vc.advance(3600000)
    man, ident, n = await _in_time(vc, iec21.readout(link, buf))
    vals = {a: (v, u) for a, v, u in iec21.data_lines(buf, n)}
    e1 = float(vals["1.8.0"][0])
    assert 1.8 < e1 - e0 < 2.6, (e0, e1)
    assert float(vals["1.8.1"][0]) == e1  # all in rate 1
    t.cancel()


async def test_wrong_address_gets_no_answer_and_garbage_is_survived():
    vc, dev, sim, path = _setup("b")
    t = asyncio.create_task(sim.run())
    link = E350Link(dev)
    buf = bytearray(8192)
    try:
        await _in_time(vc, iec21.readout(link, buf, "99999999", timeout_ms=1500))
        assert False, "another meter's address answered"
    except iec21.Iec21Error:
        pass
    # noise on the line, then a proper readout still works
    link.configure(300, 7, 0, 1)
    await _in_time(vc, link.write(b"\x00\xff garbage \r\n/?!!!\r\n"), 2000)
    man, ident, n = await _in_time(vc, iec21.readout(link, buf))
    assert man == "LGZ" and n > 100
    assert sim.errors >= 1
    t.cancel()


async def test_rate_mismatch_garbles():
    vc, dev, sim, path = _setup("c")
    t = asyncio.create_task(sim.run())
    link = E350Link(dev)
    link.configure(9600, 8, None, 1)  # the wrong rate and framing for a sign-on
    await _in_time(vc, link.write(b"/?!\r\n"), 3000)
    assert dev.read() is None  # the meter did not understand, so it said nothing
    assert sim.readouts == 0
    t.cancel()


def test_bcc_and_ident_parsing():
    assert iec21.parse_ident(b"/LGZ5ZMF100AC.M29\r\n") == ("LGZ", 9600, "ZMF100AC.M29")
    assert iec21.parse_ident(b"/ISK5ME382-1003\r\n") == ("ISK", 9600, "ME382-1003")
    for bad in (b"LGZ5X\r\n", b"/LGZ9ZMF\r\n", b"/LG\r\n"):
        try:
            iec21.parse_ident(bad)
            assert False, bad
        except iec21.Iec21Error:
            pass
    data = bytearray(b"0.0(123)\r\n1.8.0(000001.500*kWh)\r\n!\r\n")
    assert list(iec21.data_lines(data, len(data))) == [("0.0", "123", ""), ("1.8.0", "000001.500", "kWh")]
