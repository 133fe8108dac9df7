"""The one clock of the device: wrapping monotonic ticks and the RTC wall clock, injected by the board."""
# Every timer in firmware/ reads this module, never time.ticks_ms() itself:
# the board decides what time is (the MCU's counter, or the twin's injected
# clock that tests move forward by hours in seconds). asyncio.sleep_ms() reads
# the same source, because the twin points asyncio at it too.
from firmware import caltime

_src = None
_rtc = None


def init(src, rtc):
    """src: ticks_ms/ticks_add/ticks_diff (period 2**30 on an STM32); rtc: machine.RTC-like."""
    global _src, _rtc, ticks_ms, ticks_add, ticks_diff
    _src = src
    _rtc = rtc
    ticks_ms = src.ticks_ms
    ticks_add = src.ticks_add
    ticks_diff = src.ticks_diff


def ticks_ms():
    raise RuntimeError("clock not initialised")


ticks_add = ticks_diff = ticks_ms


def now():
    """UTC seconds since 1970 from the RTC."""
    dt = _rtc.datetime()
    return caltime.to_secs(dt[0], dt[1], dt[2], dt[4], dt[5], dt[6])


def set_now(secs):
    y, mo, d, h, mi, s, wd = caltime.from_secs(secs)
    _rtc.datetime((y, mo, d, wd, h, mi, s, 0))
    _rtc.set_valid()


def rtc_valid():
    """False after the RTC lost its back-up supply, until the time is set again."""
    return _rtc.valid()
