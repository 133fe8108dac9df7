# The supervisor restarts a task that raises, counts it, and stops feeding the watchdog in a crash loop.
import asyncio

from boards.unix.vclock import VClock
from firmware import clock
from firmware.sched import Supervisor


class _Rtc:
    def datetime(self, dt=None):
        return (2026, 1, 1, 4, 0, 0, 0, 0)

    def valid(self):
        return True

    def set_valid(self):
        pass


class _Wdt:
    def __init__(self):
        self.feeds = 0

    def feed(self):
        self.feeds += 1


def _vc():
    vc = VClock((1 << 30) - 5000)
    clock.init(vc, _Rtc())
    return vc


async def test_restart_and_count():
    vc = _vc()
    wdt = _Wdt()
    crashes = []
    sup = Supervisor(wdt=wdt, feed_ms=1000, on_crash=lambda n, e: crashes.append((n, repr(e))))
    runs = []

    async def flaky():
        runs.append(clock.ticks_ms())
        if len(runs) < 3:
            raise ValueError("bad input %d" % len(runs))
        await asyncio.sleep_ms(10**8)

    async def healthy():
        await asyncio.sleep_ms(10**8)

    sup.start("flaky", flaky)
    sup.start("healthy", healthy)
    wd = asyncio.create_task(sup.watchdog())
    await vc.advance(10000)
    assert len(runs) == 3, runs
    st = sup.status()
    assert st["flaky"]["restarts"] == 2, st
    assert "bad input 2" in st["flaky"]["last_error"]
    assert st["healthy"]["restarts"] == 0
    assert sup.crashes == 2 and len(crashes) == 2 and crashes[0][0] == "flaky"
    # backoff doubles: the second restart waits 2 s after the first's 1 s
    assert clock.ticks_diff(runs[1], runs[0]) >= 1000
    assert clock.ticks_diff(runs[2], runs[1]) >= 2000
    assert sup.healthy()
    assert 10 <= wdt.feeds <= 12, wdt.feeds
    wd.cancel()


async def test_crash_loop_stops_the_watchdog():
    vc = _vc()
    wdt = _Wdt()
    sup = Supervisor(wdt=wdt, feed_ms=1000)

    async def broken():
        raise OSError(5)

    sup.start("broken", broken)
    wd = asyncio.create_task(sup.watchdog())
    await vc.advance(200000)  # 8 crashes take 1+2+4+...+60 s of backoff
    assert not sup.healthy()
    fed = wdt.feeds
    await vc.advance(60000)
    assert wdt.feeds == fed, "fed the watchdog during a crash loop"
    assert sup.status()["broken"]["restarts"] >= 8
    wd.cancel()
