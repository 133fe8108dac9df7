"""Sliding average of total import power (Blue Book class 5 Demand register) from the meter's import energy."""
# period is the time between two updates of last_average_value;
# number_of_periods sub-periods make the sliding window (1: block demand).
# The energy at each period boundary is interpolated between the two
# readouts around it, so the averages do not depend on when the readout ran.


class Demand:
    def __init__(self, config):
        self.config = config
        self.reset()

    def reset(self):
        self.bounds = []  # (boundary time, energy Wh) of the last periods, oldest first
        self.prev = None  # (time, energy) of the last readout
        self.last_average = None
        self.capture_time = None
        self.current_average = None
        self.start_current = None

    @property
    def period(self):
        return self.config.get("DEM_PERIOD")

    @property
    def periods(self):
        return self.config.get("DEM_N")

    def update(self, t, e):
        """A readout of import energy e (Wh) at time t (UTC seconds)."""
        per = self.period
        if self.prev is not None and not 0 < t - self.prev[0] <= per * (self.periods + 1):
            # The clock was set, or readouts stopped for longer than the
            # window: averages across that gap would be fiction. Start over.
            self.reset()
        if self.prev is not None:
            t0, e0 = self.prev
            b = (t0 // per + 1) * per
            while b <= t:
                eb = e0 + (e - e0) * (b - t0) / (t - t0)
                self._boundary(b, eb)
                b += per
        elif self.prev is None:
            self.start_current = t - t % per
        self.prev = (t, e)
        self._current(t, e)

    def _boundary(self, b, eb):
        per = self.period
        n = self.periods
        self.bounds.append((b, eb))
        if len(self.bounds) > n + 1:
            self.bounds.pop(0)
        first = self.bounds[0]
        if b > first[0]:
            self.last_average = int(round((eb - first[1]) * 3600 / (b - first[0])))
            self.capture_time = b
        self.start_current = b - (n - 1) * per

    def _current(self, t, e):
        if not self.bounds:
            return
        # the window of the current average starts n-1 periods before the last boundary
        n = self.periods
        k = max(0, len(self.bounds) - n)
        b0, e0 = self.bounds[k]
        if t > b0:
            self.current_average = int(round((e - e0) * 3600 / (t - b0)))

    def next_period(self, t):
        if self.prev is not None:
            self._boundary(t, self.prev[1])
