"""The scheduler: one asyncio loop, a task per subsystem, restarted when it raises; the watchdog fed while healthy."""
# A subsystem that raises is logged, counted and started again after a pause
# that doubles up to a minute, so one bad input or a flaky peripheral never
# takes the device down. If a task keeps dying (a crash loop) or the loop
# stops turning, the watchdog is no longer fed and resets the device: that
# is the one remedy left once restarting a task has not helped.
import sys

import asyncio

from firmware import clock
from firmware.compat import const

_BACKOFF_FIRST_MS = const(1000)
_BACKOFF_MAX_MS = const(60000)
_CRASH_WINDOW_MS = const(600000)
_CRASH_LOOP = const(8)  # restarts of one task within the window (backoff: ~2 min for 8)


def print_exception(e):
    try:
        sys.print_exception(e)
    except AttributeError:  # CPython
        import traceback

        traceback.print_exception(e)


class _Entry:
    __slots__ = ("name", "factory", "task", "restarts", "recent", "window_start", "last_error", "done")

    def __init__(self, name, factory):
        self.name = name
        self.factory = factory
        self.task = None
        self.restarts = 0
        self.recent = 0
        self.window_start = 0
        self.last_error = None
        self.done = False


class Supervisor:
    def __init__(self, wdt=None, feed_ms=1000, on_crash=None):
        self._wdt = wdt
        self._feed_ms = feed_ms
        self._entries = []
        self.on_crash = on_crash  # (name, exception) -> None, e.g. the module event log
        self.crashes = 0
        self.feeds = 0

    def start(self, name, factory):
        """Run factory() (a coroutine function) as subsystem name, restarting it when it raises."""
        e = _Entry(name, factory)
        self._entries.append(e)
        e.task = asyncio.create_task(self._run(e))
        return e

    async def _run(self, e):
        backoff = _BACKOFF_FIRST_MS
        while True:
            try:
                await e.factory()
                e.done = True
                return
            except asyncio.CancelledError:
                raise
            except Exception as ex:
                now = clock.ticks_ms()
                if e.recent == 0 or clock.ticks_diff(now, e.window_start) > _CRASH_WINDOW_MS:
                    e.window_start = now
                    e.recent = 0
                    backoff = _BACKOFF_FIRST_MS
                e.restarts += 1
                e.recent += 1
                e.last_error = repr(ex)
                self.crashes += 1
                print("sched: task %s raised %r (restart %d)" % (e.name, ex, e.restarts))
                print_exception(ex)
                if self.on_crash:
                    try:
                        self.on_crash(e.name, ex)
                    except Exception as ex2:
                        print("sched: on_crash raised %r" % ex2)
                await asyncio.sleep_ms(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX_MS)

    def healthy(self):
        for e in self._entries:
            if e.recent >= _CRASH_LOOP:
                return False
        return True

    async def watchdog(self):
        """Feed the watchdog every feed_ms while the loop turns and no task is in a crash loop."""
        while True:
            if self._wdt is not None and self.healthy():
                self._wdt.feed()
                self.feeds += 1
            await asyncio.sleep_ms(self._feed_ms)

    def status(self):
        return {
            e.name: {"restarts": e.restarts, "last_error": e.last_error, "running": not e.done}
            for e in self._entries
        }
