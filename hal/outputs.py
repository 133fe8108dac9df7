"""Relay, breaker coil and LED outputs and the breaker button: pin levels and edges only (manual 3.3)."""
# The meaning of every output (when a relay closes, what an LED shows) is
# firmware's; these drivers only move a machine.Signal (which knows the
# pin's active level) and count what they did. The button's interrupt
# handler only sets a flag; the press is debounced and handled in a task
# (micropython-lib's convention: no work in interrupt context).
import asyncio

try:
    import machine

    _PIN = getattr(machine, "Pin", None)
except ImportError:  # CPython unit tests
    _PIN = None

_DEBOUNCE_MS = 50


class Output:
    def __init__(self, signal):
        self._s = signal
        self.switchings = 0

    @property
    def state(self):
        return bool(self._s.value())

    def set(self, on):
        """Drive the output; returns True if it changed."""
        on = bool(on)
        if on == self.state:
            return False
        self._s.value(on)
        self.switchings += 1
        return True


class Button:
    """A push button on a pin that reads `active` while pressed."""

    def __init__(self, pin, active=1):
        self._pin = pin
        self._active = active
        self._flag = asyncio.ThreadSafeFlag()
        edge = "IRQ_RISING" if active else "IRQ_FALLING"
        trigger = getattr(_PIN, edge, 1 if active else 2)
        pin.irq(handler=self._irq, trigger=trigger)
        self.presses = 0

    def _irq(self, pin):
        self._flag.set()

    def pressed(self):
        return self._pin.value() == self._active

    async def wait_press(self):
        """Return after one debounced press (contact bounce within 50 ms is one press)."""
        while True:
            await self._flag.wait()
            await asyncio.sleep_ms(_DEBOUNCE_MS)
            if self.pressed():
                self.presses += 1
                return
