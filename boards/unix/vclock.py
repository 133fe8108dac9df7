"""The twin's injected clock: STM32-like wrapping ticks, an RTC kept across power cuts, and `advance`."""
# The firmware's ticks and the RTC run on virtual time: the host's pace plus
# an offset that `advance` moves forward. asyncio stays on the host clock
# (its C half stamps woken tasks with the host tick, so any other clock for
# it would let I/O-woken tasks jump the queue); instead, a jump re-keys the
# sleeping tasks, waking them that much earlier. So a firmware task's
# asyncio.sleep_ms(3600000) ends after `advance 3600` without an hour
# passing, and clock.ticks_diff() says an hour went by.
#
# An advance freezes virtual time, then steps from one due event to the next
# (a task's timer, or bytes landing on an emulated UART: peripherals report
# their next event through next_event()) and lets every task that woke run
# until the loop is quiet, so periodic timers fire once per period and a
# meter readout takes no host time. The host time the advance itself takes
# is kept out of virtual time and out of the sleepers' wake times.
import json
import os
import time

import asyncio
import asyncio.core as _core

PERIOD = 1 << 30  # the STM32 port's ticks period
_MASK = PERIOD - 1
_HALF = PERIOD >> 1


def _rekey(ms, sleepers_only=False):
    # Shift wake times by -ms (earlier when ms > 0). With sleepers_only,
    # tasks already due keep their place: they are runnable now.
    q = _core._task_queue
    now = time.ticks_ms()
    held = []
    while True:
        t = q.peek()
        if t is None:
            break
        q.pop()
        held.append((t, t.ph_key, t.data))
    for t, k, d in held:
        if not sleepers_only or time.ticks_diff(k, now) > 0:
            k = time.ticks_add(k, -ms)
        q.push(t, k)
        t.data = d  # push() clears it; a pending cancellation lives there


class VClock:
    def __init__(self, start_ticks=PERIOD - 30000):
        self._real0 = time.ticks_ms()
        self._offset = 0
        self._frozen = None  # virtual ms while an advance holds the clock
        self._start = start_ticks & _MASK
        self._sources = []
        self._on_jump = ()
        self._held = 0  # host ms up to which an advance has accounted for host time
        self.advancing = False

    def _real(self):
        return time.ticks_diff(time.ticks_ms(), self._real0)

    def ms(self):
        """Virtual milliseconds since boot (unwrapped)."""
        if self._frozen is not None:
            return self._frozen
        return self._real() + self._offset

    def ticks_ms(self):
        return (self._start + self.ms()) & _MASK

    @staticmethod
    def ticks_add(t, d):
        return (t + d) & _MASK

    @staticmethod
    def ticks_diff(a, b):
        d = (a - b) & _MASK
        return d - PERIOD if d >= _HALF else d

    def add_source(self, src):
        """A peripheral whose next_event() says when (virtual ms) it next changes, or None."""
        self._sources.append(src)

    def on_jump(self, cb):
        self._on_jump = tuple(self._on_jump) + (cb,)

    def jump(self, ms):
        """Time passes at once: virtual time moves on and sleepers come due that much sooner."""
        if ms <= 0:
            return
        if self._frozen is not None:
            self._frozen += ms
        else:
            self._offset += ms
        _rekey(ms)
        for cb in self._on_jump:
            cb(ms)

    async def _settle(self):
        # Let every task that is ready run; quiet = nothing runnable three
        # passes in a row (I/O readiness is polled on every pass). While
        # frozen, the host time each pass takes is handed back to the
        # sleepers, so none comes due by the host's clock: a timer fires at
        # most one loop pass (well under a millisecond) before its time.
        quiet = 0
        for _ in range(100000):
            await asyncio.sleep_ms(0)
            if self._frozen is not None:
                r = self._real()
                if r != self._held:
                    _rekey(self._held - r, True)
                    self._held = r
            t = _core._task_queue.peek()
            if t is None or time.ticks_diff(t.ph_key, time.ticks_ms()) > 0:
                quiet += 1
                if quiet >= 3:
                    return
            else:
                quiet = 0

    def _next_due(self):
        # Virtual ms from now to the earliest of: the first sleeper's wake
        # time, any peripheral's next event.
        best = None
        t = _core._task_queue.peek()
        if t is not None:
            best = max(0, time.ticks_diff(t.ph_key, time.ticks_ms()))
        for src in self._sources:
            e = src.next_event()
            if e is not None:
                e = max(0, e - self._frozen)
                if best is None or e < best:
                    best = e
        return best

    async def advance(self, ms):
        """Move virtual time forward by ms, firing every timer due on the way; returns steps taken."""
        if self._frozen is not None:
            raise RuntimeError("already advancing")
        self._frozen = self.ms()
        target = self._frozen + ms
        steps = 0
        self.advancing = True
        self._held = self._real()
        try:
            while True:
                await self._settle()
                nxt = self._next_due()
                if nxt is None or self._frozen + nxt > target:
                    break
                if nxt > 0:
                    self.jump(int(nxt + 0.999))
                steps += 1
            if target > self._frozen:
                self.jump(target - self._frozen)
            await self._settle()
        finally:
            r = self._real()
            _rekey(self._held - r, True)
            self._offset = self._frozen - r
            self._frozen = None
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
        self.words = [0] * 8  # the backup registers, on the same super-capacitor
        try:
            with open(path) as f:
                st = json.load(f)
            self._delta = st["delta"]
            self._valid = st["valid"]
            self.words = st.get("words", self.words)
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
            json.dump({"delta": self._delta, "valid": self._valid, "words": self.words}, f)
        os.rename(tmp, self._path)

    def lose(self):
        from firmware import caltime

        self._delta = caltime.to_secs(2000, 1, 1) - self._host()
        self._valid = False
        self.words = [0] * 8
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

    def word(self, i, v=None):
        """A backup register: kept across power cuts, lost with the RTC."""
        if v is None:
            return self.words[i]
        if self.words[i] != v:
            self.words[i] = v
            self._save()

    def set_valid(self):
        self._valid = True
        self._save()
