"""boards/nucleo_h743/pins.py: every role has its own pin, none on the Nucleo's own, the UARTs where MicroPython has them."""
from boards.nucleo_h743 import pins

# MicroPython's NUCLEO_H743ZI board definition (mpconfigboard.h, which
# NUCLEO_H743ZI2 includes): the UARTs machine.UART(n) can open, and their pins.
MICROPYTHON_UARTS = {
    2: ("PD5", "PD6", "PD4", "PD3"),
    3: ("PD8", "PD9", None, None),
    5: ("PB6", "PB12", None, None),
    6: ("PC6", "PC7", None, None),
    7: ("PF7", "PF6", None, None),
    8: ("PE1", "PE0", None, None),
}
MICROPYTHON_SPI3 = ("PB3", "PB4", "PB5")  # SCK, MISO, MOSI
# ZI2 board parts (UM2407): LD1 green PB0, LD2 yellow PE1, LD3 red PB14, B1 USER PC13.
ON_BOARD = {"PB0": "LD1 green", "PE1": "LD2 yellow", "PB14": "LD3 red", "PC13": "B1 USER"}


def _used():
    used = []
    for role, uid, tx, rx, rts, cts, baud, _ in pins.UARTS:
        used += [(p, role) for p in (tx, rx, rts, cts) if p]
    used += [(p, "spi " + f) for f, p, _ in pins.SPI_PINS]
    used += [(p, name) for name, p, _, _, _, _ in pins.PINS]
    return used


def test_no_pin_has_two_roles_or_a_reserved_one():
    used = _used()
    names = [p for p, _ in used]
    assert len(names) == len(set(names)), sorted(names)
    reserved = dict(pins.RESERVED)
    for p, role in used:
        assert p not in reserved, (p, role, reserved.get(p))
        assert p[0] == "P" and p[1] in "ABCDEFGH" and 0 <= int(p[2:]) <= 15, p


def test_uarts_are_the_ones_micropython_opens_on_this_board():
    ids = [u[1] for u in pins.UARTS]
    assert len(set(ids)) == 4 and sorted(u[0] for u in pins.UARTS) == ["meter", "modem", "rs485", "wmbus"]
    for role, uid, tx, rx, rts, cts, baud, _ in pins.UARTS:
        assert uid != 3, "UART3 is the ST-LINK console"
        assert MICROPYTHON_UARTS[uid] == (tx, rx, rts, cts), role
    assert [p for _, p, _ in pins.SPI_PINS] == list(MICROPYTHON_SPI3)
    assert pins.SPI_BAUD <= 50000000  # the 03h read's limit


def test_the_manuals_ten_leds_and_the_outputs():
    names = {p[0]: p for p in pins.PINS}
    assert len(pins.LEDS) == 10
    for led in pins.LEDS:
        assert names["LED_" + led][2] == pins.OUT
    for out in ("RE1", "RE2", "BREAKER", "RS485_DE", "FLASH_CS", "MODEM_ON", "MODEM_RESET", "WMBUS_RESET"):
        assert names[out][2] == pins.OUT, out
    assert names["BUTTON"][2] == pins.IN and names["MODEM_PWRMON"][2] == pins.IN
    for name, p, _, _, label, _ in pins.PINS:
        if p in ON_BOARD:
            assert label == ON_BOARD[p], name
    assert pins.WDT_MS <= 32000 and 0 <= pins.RTC_MARK_REG <= 19


def test_the_board_doc_shows_this_map():
    import os

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "README.md")) as f:
        doc = f.read()
    for name, p, direction, active, label, _ in pins.PINS:
        row = "| %s | %s | %s | %s | %s |" % (name, p, direction, "high" if active else "low", label)
        assert row in doc, row
    for role, uid, tx, rx, rts, cts, baud, labels in pins.UARTS:
        assert "| UART%d | %s | %s |" % (uid, tx, rx) in doc and labels in doc, role
