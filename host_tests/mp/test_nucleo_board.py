# boards/nucleo_h743 on the unix port, on fake stm32 machine/network/stm modules and a fake 16 MB NOR chip.
import os

import vfs

import fakestm32

fakestm32.install()  # before the board imports machine

from boards import layout  # noqa: E402
from boards.nucleo_h743 import board as nb  # noqa: E402
from boards.nucleo_h743 import pins  # noqa: E402
from fakenor import FakeNor  # noqa: E402

_chip = None


def _board():
    global _chip
    if _chip is None:
        _chip = FakeNor(layout.BLOCKS * layout.BLOCK_SIZE, jedec=layout.JEDEC_ID)
        fakestm32.attach_spi(pins.SPI_ID, _chip, "A4")
    return nb.Board()


def test_board_wires_the_reference_hardware():
    fakestm32.machine.cause = fakestm32.machine.WDT_RESET
    b = _board()
    assert b.reset_cause() == "wdt"
    assert b.flash.ioctl(4, 0) == layout.BLOCKS and b.flash.id == layout.JEDEC_ID
    m = fakestm32.UART.made[5]
    assert b.meter_uart is m and m.params == (300, 7, 0, 1)  # IEC 62056-21 sign-on
    modem = b.uart("modem")
    assert modem.id == 2 and modem.kw["flow"] == fakestm32.UART.RTS | fakestm32.UART.CTS
    assert b.uart("modem") is modem  # opened once
    assert b.uart("rs485").id == 6 and b.uart("wmbus").id == 7
    for name, cpu, direction, active, _, _ in pins.PINS:
        p = b.pin(name)
        assert p.id == cpu[1:], (name, p.id)  # Pin.cpu.E9, never the Arduino label
        if direction == pins.OUT:
            assert p.value() == 1 - active, name  # relays open, LEDs off, resets released
    assert b.net.nic.active() and b.net.address() == "192.0.2.10"
    assert b.clock.ticks_diff(b.clock.ticks_add(5, 10), 5) == 10
    spi = [c for c in fakestm32.calls if c[0] == "SPI"][0]
    assert spi[1] == 3 and spi[2]["baudrate"] <= 50000000 and spi[2]["polarity"] == 0
    try:
        b.pin("NOPE")
        assert False
    except KeyError:
        pass


def test_data_partition_and_identity():
    b = _board()
    assert b.mount_data() == "formatted"
    assert b.factory()["serial"] == "0000000000"
    with open(b.DATA + "/factory.json", "w") as f:
        f.write('{"serial": "5010080020", "flag": "TNX", "hw": "MCP-PRO ETH"}')
    vfs.umount(b.DATA)
    b = _board()
    assert b.mount_data() == "mounted"
    assert b.factory()["serial"] == "5010080020"
    assert "factory.json" in os.listdir(b.DATA)
    vfs.umount(b.DATA)
    first, count = layout.partition("data")
    for s in _chip.erases:
        assert first <= s < first + count, s  # the application slots were never touched
    assert _chip.violations == []


def test_rtc_knows_when_it_lost_its_supply():
    b = _board()
    mem = fakestm32.stm.mem32
    mem.words.clear()  # the backup domain after the capacitor ran flat
    assert not b.rtc.valid()
    b.rtc.datetime((2026, 3, 1, 7, 12, 0, 0, 0))
    assert b.rtc.datetime()[:3] == (2026, 3, 1)
    assert not b.rtc.valid()  # setting the calendar alone does not vouch for it
    b.rtc.set_valid()
    assert b.rtc.valid()
    assert mem[fakestm32.stm.PWR] & (1 << 8)  # backup domain write access (DBP)
    assert mem[fakestm32.stm.RTC + 0x50 + 4 * pins.RTC_MARK_REG] != 0
    b.rtc.invalidate()
    assert not b.rtc.valid()


def test_boot_starts_the_watchdog_before_anything_else():
    del fakestm32.calls[:]
    here = os.getcwd()
    with open(here + "/boards/nucleo_h743/boot.py") as f:
        exec(f.read(), {})
    assert fakestm32.calls[0] == ("WDT", pins.WDT_MS)
    b = _board()
    w = b.wdt(8000)
    assert w.timeout == 8000 and fakestm32.calls[0][0] == "WDT"
    b.reset()
    assert fakestm32.machine.resets == 1
    fakestm32.machine.cause = fakestm32.machine.PWRON_RESET
    assert _board().reset_cause() == "power"


def test_application_slot_is_mounted_ahead_of_flash():
    import sys

    b = _board()
    assert b.mount_app() == "formatted"  # a blank slot A
    assert sys.path[0] == "/app"
    os.mkdir("/app/firmware")
    with open("/app/firmware/probe.py", "w") as f:
        f.write("WHERE = 'slot'\n")
    vfs.umount("/app")
    assert b.mount_app() == "mounted"
    assert sys.path.count("/app") == 1
    from firmware import probe

    assert probe.WHERE == "slot"
    vfs.umount("/app")
    first, count = layout.partition("app_b")
    b.flash.ioctl(6, first)
    b.flash.writeblocks(first, b"not littlefs", 0)
    assert b.mount_app("app_b", "/app_b") is None  # unreadable: left alone, not formatted
    buf = bytearray(12)
    b.flash.readblocks(first, buf)
    assert bytes(buf) == b"not littlefs"
