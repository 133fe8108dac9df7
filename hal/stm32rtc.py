"""STM32 RTC that knows when its back-up supply was lost: a mark in an RTC backup register (ST RM0433 46.6.20, RTC_BKPxR)."""
# The RTC and its backup registers live in the backup domain, which the
# super-capacitor on VBAT keeps through a power cut (manual 5.3). When the
# capacitor runs flat the whole domain resets: the calendar restarts and
# every backup register reads 0. So a mark written when the time is set,
# and read at boot, says whether the RTC can be trusted: the twin's ERtc
# semantics (valid(), set_valid()) on the real chip.
#
# Writing a backup register needs the domain's write protection off: DBP,
# bit 8 of PWR_CR1 on the H7 (PWR_CR on the F4 and F7), the first register
# of the PWR block in all three. MicroPython's RTC set-up turns it on;
# set_valid() turns it on again in case something turned it off.
import machine
import stm

_MARK = 0x4D435254  # "MCRT"; bit 31 clear, so mem32 reads it back as a positive int
_DBP = 1 << 8


class BackupRtc:
    """machine.RTC plus valid()/set_valid(); `reg` picks the backup register (0-19 exist on every STM32 with this RTC)."""

    def __init__(self, rtc=None, reg=19):
        self.rtc = rtc if rtc is not None else machine.RTC()
        self._addr = stm.RTC + stm.RTC_BKP0R + 4 * reg

    def datetime(self, dt=None):
        """(year, month, day, weekday, hours, minutes, seconds, subseconds), or set it."""
        if dt is None:
            return self.rtc.datetime()
        self.rtc.datetime(dt)
        return None

    def valid(self):
        """False after the backup domain lost power, until set_valid()."""
        return stm.mem32[self._addr] == _MARK

    def set_valid(self):
        stm.mem32[stm.PWR] |= _DBP
        stm.mem32[self._addr] = _MARK

    def invalidate(self):
        """Forget the mark (a factory reset, or a test of the lost-time path)."""
        stm.mem32[stm.PWR] |= _DBP
        stm.mem32[self._addr] = 0
