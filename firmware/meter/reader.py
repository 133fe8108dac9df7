"""Periodic readout of the E350 over its internal connector (manual 3.1, "periodic data readouts")."""
# By IEC 62056-21 mode C (firmware/meter/iec21.py). A meter that does not
# answer, answers late or sends garbage costs one failed readout, counted;
# the application (firmware/app.py) schedules readouts and turns a run of
# failures into a meter-link-lost event.
from firmware import clock
from firmware.meter import iec21

READ_PERIOD_MS = 60000
_BUF = 8192  # one data readout; preallocated once


class MeterReader:
    def __init__(self, link, values, address="", period_ms=READ_PERIOD_MS):
        self.link = link
        self.values = values
        self.address = address
        self.period_ms = period_ms
        self.busy = False  # the METER LED: on while talking to the meter
        self._buf = bytearray(_BUF)

    async def read_once(self):
        self.busy = True
        try:
            man, ident, n = await iec21.readout(self.link, self._buf, self.address)
            self.values.apply(iec21.data_lines(self._buf, n), clock.now())
            self.values.last_error = None
            return True
        except iec21.Iec21Error as e:
            self.values.failures += 1
            self.values.last_error = str(e)
            return False
        finally:
            self.busy = False
