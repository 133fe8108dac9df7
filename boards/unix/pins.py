"""The twin's pins: machine.PinBase outputs and inputs that keep their level, for relays, breaker, LEDs and button."""
# Same names as the reference board's pin table (boards/nucleo_h743/pins.py).
# Outputs record how often they changed (relay wear shows in the status) and
# tell an observer (the emulated meter follows the breaker line); the button
# is an input the twin's control channel presses, firing its interrupt as
# the pin's edge would.
import machine

OUTPUTS = (
    "RE1", "RE2", "BREAKER",
    "LED_PWR", "LED_SIM_ERR", "LED_GSM_ERR", "LED_SIGNAL", "LED_CONN", "LED_SYS", "LED_METER", "LED_DISCONN",
    "LED_RE1", "LED_RE2",
)
INPUTS = ("BUTTON",)
IRQ_RISING = 1
IRQ_FALLING = 2


class EPin(machine.PinBase):
    def __init__(self, name, on_change=None):
        self.name = name
        self._v = 0
        self.changes = 0
        self.on_change = on_change
        self._handler = None
        self._trigger = 0

    def value(self, v=None):
        if v is None:
            return self._v
        v = 1 if v else 0
        if v != self._v:
            self._v = v
            self.changes += 1
            if self.on_change is not None:
                self.on_change(self.name, v)

    def irq(self, handler=None, trigger=IRQ_RISING | IRQ_FALLING):
        self._handler = handler
        self._trigger = trigger

    def drive(self, v):
        """The outside world sets an input: its edge fires the interrupt handler."""
        old = self._v
        self.value(v)
        edge = IRQ_RISING if (v and not old) else IRQ_FALLING if (old and not v) else 0
        if self._handler is not None and edge & self._trigger:
            self._handler(self)


class Pins:
    def __init__(self, on_change=None):
        self.pins = {}
        for n in OUTPUTS + INPUTS:
            self.pins[n] = EPin(n, on_change)

    def pin(self, name):
        return self.pins[name]

    def signal(self, name):
        return machine.Signal(self.pins[name])

    def levels(self):
        return {n: p.value() for n, p in self.pins.items()}

    def changes(self):
        return {n: p.changes for n, p in self.pins.items() if p.changes}
