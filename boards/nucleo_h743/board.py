"""The reference board, NUCLEO-H743ZI2 with a W25Q128JV SPI NOR: its machine objects wired for firmware/ (ST UM2407)."""
# Built from MicroPython's stm32 machine API only: UART, Pin, SPI, RTC, WDT,
# and network.LAN for the Nucleo's LAN8742A Ethernet PHY (RMII). What is
# wired where is pins.py; the flash layout is boards/layout.py, shared with
# the twin. Drivers that are not written yet (modem, RS-485, radio, relays,
# LEDs) find their UART or pin through uart(role) and pin(name).
import time

import machine
import network

from boards import layout
from boards.base import Board as BaseBoard
from boards.nucleo_h743 import pins
from hal.lan import LanNet
from hal.spiflash import SpiFlash
from hal.stm32rtc import BackupRtc

_CAUSES = {
    machine.PWRON_RESET: "power",
    machine.HARD_RESET: "pin",
    machine.WDT_RESET: "wdt",
    machine.SOFT_RESET: "soft",
    machine.DEEPSLEEP_RESET: "deepsleep",
}


def cpu_pin(name):
    """The machine.Pin id of an STM32 pin name ("PD5"). Pin.cpu.D5, not Pin("D5"): that is the Arduino label D5 (PE11)."""
    return getattr(machine.Pin.cpu, name[1:])


def start_watchdog(timeout_ms=pins.WDT_MS):
    """Start the IWDG (boot.py does, before anything else); starting it again only sets a new timeout."""
    return machine.WDT(timeout=timeout_ms)


class Board(BaseBoard):
    NAME = "nucleo-h743zi2"

    def __init__(self):
        self._cause = _CAUSES.get(machine.reset_cause(), "power")
        self.clock = time  # ticks_ms/ticks_add/ticks_diff, period 2**30 ms on the stm32 port
        self.rtc = BackupRtc(machine.RTC(), pins.RTC_MARK_REG)
        self._pins = {}
        self._uarts = {}
        BaseBoard.__init__(self, SpiFlash(self._spi(), self.pin("FLASH_CS"), layout.BLOCKS))
        self.meter_uart = self.uart("meter")
        self.net = LanNet(network.LAN())
        self.net.up()

    def _spi(self):
        return machine.SPI(pins.SPI_ID, baudrate=pins.SPI_BAUD, polarity=0, phase=0, bits=8, firstbit=machine.SPI.MSB)

    def pin(self, name):
        """The named pin of pins.PINS, set up once: outputs start inactive, inputs read without pulls."""
        p = self._pins.get(name)
        if p is None:
            for n, cpu, direction, active, _, _ in pins.PINS:
                if n == name:
                    if direction == pins.OUT:
                        p = machine.Pin(cpu_pin(cpu), machine.Pin.OUT, value=1 - active)
                    else:
                        p = machine.Pin(cpu_pin(cpu), machine.Pin.IN)
                    break
            else:
                raise KeyError(name)
            self._pins[name] = p
        return p

    def signal(self, name):
        """The named pin as a machine.Signal: on() drives (or reads) its active level."""
        for n, cpu, direction, active, _, _ in pins.PINS:
            if n == name:
                return machine.Signal(self.pin(name), invert=not active)
        raise KeyError(name)

    def uart(self, role):
        """The UART of pins.UARTS for a role ("modem", "rs485", "wmbus", "meter"), opened once."""
        u = self._uarts.get(role)
        if u is None:
            for r, uid, _, _, rts, _, baud, _ in pins.UARTS:
                if r == role:
                    if role == "meter":  # IEC 62056-21 sign-on: 300 baud, 7 data bits, even parity
                        u = machine.UART(uid, baudrate=baud, bits=7, parity=0, stop=1, timeout=0, rxbuf=512)
                    elif rts:
                        u = machine.UART(uid, baudrate=baud, flow=machine.UART.RTS | machine.UART.CTS, timeout=0, rxbuf=1024)
                    else:
                        u = machine.UART(uid, baudrate=baud, timeout=0, rxbuf=512)
                    break
            else:
                raise KeyError(role)
            self._uarts[role] = u
        return u

    # -- what the firmware asks of a board (boards/base.py) --
    def wdt(self, timeout_ms):
        return start_watchdog(timeout_ms)

    def reset(self):
        machine.reset()

    def reset_cause(self):
        return self._cause
