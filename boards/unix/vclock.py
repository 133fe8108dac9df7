"""The twin's injected clock: STM32-like wrapping ticks, an RTC kept across power cuts, and `advance`."""
# Virtual time runs at the host's pace plus an offset that `advance` moves
# forward. asyncio is pointed at the same virtual time, so a firmware task's
# asyncio.sleep_ms(3600000) ends after `advance 3600` without an hour passing.
# Advancing steps from one due timer to the next and lets every task that
# woke run until the loop is quiet, so periodic timers fire once per period.
import json
import os
import time

import asyncio
import asyncio.core as _core

PERIOD = 1 << 30  # the STM32 port's ticks period
_MASK = PERIOD - 1
_HALF = PERIOD >> 1


class VClock:
    def __init__(self, start_ticks=PERIOD - 30000):
        # time.ticks_ms() on the unix port is the same counter the C part of
        # asyncio stamps tasks with; virtual time never runs behind it.
        self._real0 = time.ticks_ms()
        self._offset = 0
        self._start = start_ticks & _MASK
        self.advancing = False

    def ms(self):
        """Virtual milliseconds since boot (unwrapped)."""
        return time.ticks_diff(time.ticks_ms(), self._real0) + self._offset

    def _asyncio_ticks(self):
        return time.ticks_ms() + self._offset

    def ticks_ms(self):
        return (self._start + self.ms()) & _MASK

    @staticmethod
    def ticks_add(t, d):
        return (t + d) & _MASK

    @staticmethod
    def ticks_diff(a, b):
        d = (a - b) & _MASK
        return d - PERIOD if d >= _HALF else d

    def install(self):
        _core.ticks = self._asyncio_ticks
        asyncio.ticks = self._asyncio_ticks

    def jump(self, ms):
        """Move virtual time forward without running anything (power-off time, tests)."""
        if ms > 0:
            self._offset += ms
            for cb in self._on_jump:
                cb(ms)

    _on_jump = ()

    def on_jump(self, cb):
        self._on_jump = tuple(self._on_jump) + (cb,)

    async def _settle(self):
        # Let every task that is ready run; quiet = nothing runnable three
        # passes in a row (I/O readiness is polled on every pass).
        quiet = 0
        for _ in range(100000):
            await asyncio.sleep_ms(0)
            t = _core._task_queue.peek()
            if t is None or time.ticks_diff(t.ph_key, self._asyncio_ticks()) > 0:
                quiet += 1
                if quiet >= 3:
                    return
            else:
                quiet = 0

    async def advance(self, ms):
        """Move virtual time forward by ms, firing every timer due on the way; returns steps taken."""
        target = self.ms() + ms
        steps = 0
        self.advancing = True
        try:
            while True:
                await self._settle()
                t = _core._task_queue.peek()
                if t is None:
                    break
                due = time.ticks_diff(t.ph_key, self._asyncio_ticks())
                if due > target - self.ms():
                    break
                if due > 0:
                    self.jump(due)
                steps += 1
            rest = target - self.ms()
            if rest > 0:
                self.jump(rest)
            await self._settle()
        finally:
            self.advancing = False
        return steps


class ERtc:
    """machine.RTC-like real-time clock on the virtual time, kept in a host file across power cuts.

    The super-capacitor (manual 5.3) keeps it running while the power is off;
    `lose()` models a capacitor that ran flat: the RTC restarts at 2000-01-01
    and reports itself invalid until the time is set.
    """

    def __init__(self, vclock, path):
        self._vc = vclock
        self._path = path
        self._delta = None  # RTC seconds minus host seconds
        self._valid = False
        try:
            with open(path) as f:
                st = json.load(f)
            self._delta = st["delta"]
            self._valid = st["valid"]
        except (OSError, ValueError, KeyError):
            pass
        if self._delta is None:
            self.lose()
        self._base_ms = vclock.ms()
        vclock.on_jump(self._jumped)

    def _host(self):
        return time.time()

    def seconds(self):
        return self._host() + self._delta

    def _jumped(self, ms):
        self.passed(ms / 1000)

    def passed(self, seconds):
        """Time went by that the host clock did not see (an advance, a simulated outage)."""
        self._delta += seconds
        self._save()

    def _save(self):
        tmp = self._path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"delta": self._delta, "valid": self._valid}, f)
        os.rename(tmp, self._path)

    def lose(self):
        from firmware import caltime

        self._delta = caltime.to_secs(2000, 1, 1) - self._host()
        self._valid = False
        self._save()

    def datetime(self, dt=None):
        from firmware import caltime

        if dt is None:
            s = self.seconds()
            y, mo, d, h, mi, sec, wd = caltime.from_secs(int(s))
            return (y, mo, d, wd, h, mi, sec, int((s % 1) * 256))
        secs = caltime.to_secs(dt[0], dt[1], dt[2], dt[4], dt[5], dt[6])
        self._delta = secs - self._host()
        self._save()

    def valid(self):
        return self._valid

    def set_valid(self):
        self._valid = True
        self._save()
