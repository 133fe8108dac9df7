"""When the load profiles capture (Blue Book class 7 capture_period): on local-time boundaries, from a fresh readout."""
# Profile 1 and 2 capture every capture_period seconds on the boundaries of
# local time (a 15-minute profile at :00, :15, :30, :45), daily at local
# midnight and monthly at local midnight on the 1st. At a boundary the meter
# is read first, so a row holds the registers as they were at that moment
# (give or take the readout's few seconds), then every profile due captures
# one row stamped with the boundary time. Captures missed while the power
# was off are not made up: the profile shows the gap, as a meter's does.
import asyncio

from firmware import caltime, clock
from firmware.cosem import dst
from firmware.cosem.ic_clock import settings as clock_settings

_MAX_SLEEP_MS = 60000  # wake at least every minute: the clock may be set meanwhile


def _local(t, st):
    # local wall-clock seconds (no zone) for boundary arithmetic
    f = dst.local_fields(t, st)
    return caltime.to_secs(f[0], f[1], f[2], f[3], f[4], f[5])


def next_boundary(p, t, st):
    """UTC seconds of profile p's next capture after t, or None if it captures only on demand."""
    loc = _local(t, st)
    off = t - loc
    if p.name == "monthly":
        y, mo, d, h, mi, s, wd = caltime.from_secs(loc)
        y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
        return caltime.to_secs(y, mo, 1) + off
    period = p.period
    if not period:
        return None
    return (loc // period + 1) * period + off


class Capturer:
    def __init__(self, app):
        self.app = app
        self.captures = 0
        self.last = None  # boundaries up to this time are done

    async def run(self):
        app = self.app
        while True:
            st = clock_settings(app.config)
            now = clock.now()
            if self.last is None or now < self.last:
                self.last = now - 1  # at start, or the clock was set back: capture from now on
            # The boundary after the last one captured (not after now: a wake
            # a second late must not lose the boundary it woke for).
            after = self.last
            due = None
            for p in app.load_profiles:
                b = next_boundary(p, after, st)
                if b is not None and (due is None or b < due):
                    due = b
            if due is None:
                await asyncio.sleep_ms(_MAX_SLEEP_MS)
                continue
            if now - due > _MAX_SLEEP_MS // 1000:
                # Overslept by more than a wake-up interval: the clock was set
                # forward past it. Those periods never ran; no rows for them.
                self.last = now - 1
                continue
            wait = (due - now) * 1000
            if wait > 0:
                await asyncio.sleep_ms(min(wait, _MAX_SLEEP_MS))
                continue
            # At the boundary: read the meter, then every profile whose boundary this is captures.
            await app.read_meter()
            for p in app.load_profiles:
                b = next_boundary(p, due - 1, st)
                if b == due:
                    app.capture(p, due)
                    self.captures += 1
            self.last = due
