# The injected clock: timers across the 2**30 tick wrap fire exactly once, in order, with the right elapsed time.
import asyncio

from boards.unix.vclock import PERIOD, VClock
from firmware import clock


class _Rtc:
    def datetime(self, dt=None):
        return (2026, 11, 25, 3, 12, 0, 0, 0)

    def valid(self):
        return True

    def set_valid(self):
        pass


def _vc(start):
    vc = VClock(start)
    clock.init(vc, _Rtc())
    return vc


def test_ticks_wrap_arithmetic():
    vc = _vc(PERIOD - 10)
    a = PERIOD - 5
    b = clock.ticks_add(a, 10)
    assert b == 5, b
    assert clock.ticks_diff(b, a) == 10
    assert clock.ticks_diff(a, b) == -10
    assert clock.ticks_diff(clock.ticks_add(a, PERIOD // 2 - 1), a) == PERIOD // 2 - 1


async def test_advance_across_wrap_fires_each_timer_once():
    vc = _vc(PERIOD - 60000)  # one minute before the counter wraps
    t0 = clock.ticks_ms()
    fired = []
    periodic = []

    async def once(name, ms):
        await asyncio.sleep_ms(ms)
        fired.append((name, clock.ticks_diff(clock.ticks_ms(), t0)))

    async def every(ms):
        while True:
            await asyncio.sleep_ms(ms)
            periodic.append(clock.ticks_diff(clock.ticks_ms(), t0))

    for name, ms in (("a", 30000), ("b", 59999), ("c", 60001), ("d", 3600000), ("e", 7200500)):
        asyncio.create_task(once(name, ms))
    pt = asyncio.create_task(every(900000))  # a 15-minute capture period
    steps = await vc.advance(7200100)  # two hours (and 100 ms: a re-sleeping timer drifts by a ms a period)
    names = [f[0] for f in fired]
    assert names == ["a", "b", "c", "d"], fired  # e is 400 ms beyond the advance
    for name, at in fired:
        want = {"a": 30000, "b": 59999, "c": 60001, "d": 3600000}[name]
        assert want - 2 <= at < want + 500, (name, at)  # a timer may fire up to one loop pass early
    assert len(periodic) == 8, periodic
    for i, at in enumerate(periodic):
        assert 900000 * (i + 1) - 2 <= at < 900000 * (i + 1) + 500, periodic
    assert clock.ticks_ms() < 7300000  # the counter did wrap
    elapsed = clock.ticks_diff(clock.ticks_ms(), t0)
    assert 7200100 <= elapsed < 7200600, elapsed
    assert steps >= 11, steps  # d and the 4th capture fall on the same tick
    await vc.advance(1000)
    assert [f[0] for f in fired][-1] == "e", fired
    pt.cancel()


async def test_wait_for_timeout_uses_injected_time():
    vc = _vc(PERIOD - 1000)

    async def never():
        await asyncio.sleep_ms(10**9)

    async def guarded(out):
        try:
            await asyncio.wait_for_ms(never(), 300000)
        except asyncio.TimeoutError:
            out.append(clock.ticks_ms())

    out = []
    asyncio.create_task(guarded(out))
    await vc.advance(299000)
    assert out == []
    await vc.advance(2000)
    assert len(out) == 1, out
