# Stand-ins for MicroPython's stm32 machine, network and stm modules, to run boards/nucleo_h743 on the unix port.
# A test puts them in sys.modules before it imports the board (micropython-lib's
# fake-module pattern). They record what the board asked for; an SPI bus can
# be backed by a fake NOR chip (fakenor.py) whose chip select a Pin drives.

calls = []  # (what, args) in the order the board made them
_spi = {}  # SPI id -> bus object
_wires = {}  # pin id -> the chip select it drives


def attach_spi(spi_id, bus, cs_pin_id):
    _spi[spi_id] = bus
    _wires[cs_pin_id] = bus.cs


class _Cpu:
    def __getattr__(self, name):
        return name  # Pin.cpu.D5 -> "D5", as good an id as the real pin object


class Pin:
    IN = 0
    OUT = 1
    PULL_UP = 1
    PULL_DOWN = 2
    cpu = _Cpu()
    made = {}  # id -> Pin

    def __init__(self, id, mode=-1, pull=None, value=None):
        self.id = id
        self.mode = mode
        self.level = 0 if value is None else value
        Pin.made[id] = self
        calls.append(("Pin", id))
        if value is not None:
            self.value(value)

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = 1 if v else 0
        w = _wires.get(self.id)
        if w is not None:
            w.value(self.level)
        return None

    def __call__(self, v=None):
        return self.value(v)


class UART:
    RTS = 1
    CTS = 2
    made = {}

    def __init__(self, id, baudrate=9600, bits=8, parity=None, stop=1, **kw):
        self.id = id
        self.init(baudrate, bits, parity, stop, **kw)
        UART.made[id] = self
        calls.append(("UART", id))

    def init(self, baudrate=9600, bits=8, parity=None, stop=1, **kw):
        self.params = (baudrate, bits, parity, stop)
        self.kw = kw


class SPI:
    MSB = 0
    LSB = 1

    def __new__(cls, id, **kw):
        calls.append(("SPI", id, kw))
        return _spi[id]


class RTC:
    def __init__(self):
        self.dt = (2015, 1, 1, 4, 0, 0, 0, 0)

    def datetime(self, dt=None):
        if dt is None:
            return self.dt
        self.dt = tuple(dt)
        return None


class WDT:
    made = []

    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout
        WDT.made.append(self)
        calls.append(("WDT", timeout))

    def feed(self):
        pass


class machine:
    Pin = Pin
    UART = UART
    SPI = SPI
    RTC = RTC
    WDT = WDT
    SOFT_RESET = 0
    PWRON_RESET = 1
    HARD_RESET = 2
    WDT_RESET = 3
    DEEPSLEEP_RESET = 4
    cause = 1
    resets = 0

    @staticmethod
    def reset_cause():
        return machine.cause

    @staticmethod
    def reset():
        machine.resets += 1


class LAN:
    def __init__(self):
        self.up = False
        calls.append(("LAN",))

    def active(self, v=None):
        if v is None:
            return self.up
        self.up = bool(v)
        return None

    def isconnected(self):
        return self.up

    def ifconfig(self):
        return ("192.0.2.10" if self.up else "0.0.0.0", "255.255.255.0", "192.0.2.1", "192.0.2.1")


class network:
    LAN = LAN


class _Mem32:
    def __init__(self):
        self.words = {}

    def __getitem__(self, addr):
        return self.words.get(addr, 0)

    def __setitem__(self, addr, v):
        self.words[addr] = v & 0xFFFFFFFF


class stm:
    # The STM32H743's addresses (RM0433): RTC in the D3 domain, PWR_CR1 first in PWR.
    RTC = 0x58004000
    RTC_BKP0R = 0x50
    PWR = 0x58024800
    mem32 = _Mem32()


def install():
    import sys

    sys.modules["machine"] = machine
    sys.modules["network"] = network
    sys.modules["stm"] = stm
