"""The board interface firmware/app.py uses, and what every board shares: the data partition and the factory identity."""
# A board builds the hardware objects and hands them to the firmware, which
# never imports a board (design.md, layers). What the firmware asks of one:
#
#   NAME                 the board's name, for status and logs
#   DATA                 where the data file system is mounted ("/data")
#   clock                ticks_ms/ticks_add/ticks_diff (an STM32's period is 2**30 ms)
#   rtc                  datetime([tuple]) as machine.RTC, valid(), set_valid():
#                        valid() is False after the RTC lost its back-up supply
#   net                  the uplink, as hal/transport.py describes it (connect, listen, resolve)
#   meter_uart           the E350 internal connector's UART (hal/e350.py drives it)
#   wdt(timeout_ms)      the started watchdog: an object with feed()
#   reset()              machine.reset(); does not return
#   reset_cause()        "power", "pin", "wdt", "soft" or "deepsleep"
#   mount_data()         mount the data partition at DATA: "mounted", "formatted" or "reformatted"
#   factory()            the production line's identity: {"serial", "flag", "hw"}
#   rings()              the flash rings: (name, logical name, bytes per record, records kept)
#   pin(name)            a raw pin by the board's pin names (BUTTON, ...), for interrupts
#   signal(name)         the same as a machine.Signal, on() = its active level: RE1, RE2,
#                        BREAKER, LED_PWR, LED_SIM_ERR, LED_GSM_ERR, LED_SIGNAL, LED_CONN,
#                        LED_SYS, LED_METER, LED_DISCONN, LED_RE1, LED_RE2, BUTTON
#   backup               a few words that survive a power cut without flash wear
#                        (the RTC's backup registers): get(i), set(i, value), i < 8
#   services(app)        the board's own (name, coroutine factory) tasks, started beside the firmware's
#
# Adding a board is one new folder, boards/NAME/, with a board.py whose
# Board subclasses this one and sets the hardware objects, plus the boot.py
# and main.py its runtime starts. Sizes come from boards/layout.py; the data
# partition, the application slot (mount_app) and factory() are shared here.
# Only a board's main.py imports firmware/, to start it.
import json

from boards import layout
from hal.partition import Partition

_UNKNOWN = {"serial": "0000000000", "flag": "TNX", "hw": ""}


class Board:
    NAME = "board"
    DATA = "/data"

    def __init__(self, flash):
        self.flash = flash  # the raw data flash chip: a block device of layout.BLOCKS blocks

    def data_partition(self):
        """The data partition of the flash chip, as a block device for littlefs."""
        first, count = layout.partition("data")
        return Partition(self.flash, first, count)

    def mount_data(self):
        from hal import flashfs  # vfs exists only on MicroPython

        return flashfs.mount(self.data_partition(), self.DATA)

    def mount_app(self, slot="app_a", path="/app"):
        """Mount an application slot at path, ahead of the internal /flash on sys.path.

        Returns "mounted", "formatted" (a blank slot, now empty) or None: a
        slot littlefs cannot read is left alone (never formatted here: it
        may be the only copy of an application) and /flash serves the
        imports. Which slot runs, and going back when a new one does not
        confirm itself, is the upgrade's business; until then it is slot A.
        """
        import sys

        from hal import flashfs

        first, count = layout.partition(slot)
        how = flashfs.mount(Partition(self.flash, first, count), path, format_unreadable=False)
        if how is not None and path not in sys.path:
            sys.path.insert(0, path)
        return how

    def factory(self):
        """The identity the production line wrote once (DATA/factory.json); the firmware only reads it."""
        try:
            with open(self.DATA + "/factory.json") as f:
                ident = json.load(f)
            if isinstance(ident, dict):
                return ident
        except (OSError, ValueError):
            pass
        return dict(_UNKNOWN)

    def rings(self):
        return layout.RINGS

    def services(self, app):
        return ()
