"""The E350 internal connector: a UART link to the meter, bytes and line settings only (no protocol)."""
# The protocols that run over it (IEC 62056-21, DLMS/HDLC) live in
# firmware/; this driver moves bytes and switches the line's rate and
# framing, which IEC 62056-21's sign-on (300 baud 7E1) and its rate switch
# need.
import asyncio


class E350Link:
    def __init__(self, uart):
        self.uart = uart
        self._sr = asyncio.StreamReader(uart)
        self.framing = None
        self.tx_bytes = 0
        self.rx_bytes = 0

    def configure(self, baudrate, bits=8, parity=None, stop=1):
        self.framing = (baudrate, bits, parity, stop)
        self.uart.init(baudrate=baudrate, bits=bits, parity=parity, stop=stop)

    def tx_ms(self, n):
        """Milliseconds n characters take on the line (rounded up once, not per character)."""
        f = self.framing
        if f is None:
            raise OSError(22)  # EINVAL: configure() sets the line first
        b, bits, parity, stop = f
        return (n * (1 + bits + (parity is not None) + stop) * 1000 + b - 1) // b

    async def write(self, data):
        self.uart.write(data)
        self.tx_bytes += len(data)
        # Wait until the last bit has left, so a rate switch after this call
        # cannot cut the frame short.
        await asyncio.sleep_ms(self.tx_ms(len(data)))

    async def read(self, n):
        """Up to n bytes as soon as any arrive (the caller bounds it with a timeout)."""
        data = await self._sr.read(n)
        self.rx_bytes += len(data)
        return data

    def discard_input(self):
        while self.uart.read() is not None:
            pass
