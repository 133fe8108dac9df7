"""hal/spiflash.py and hal/partition.py against a fake NOR chip on a fake SPI bus (host_tests/mp/fakenor.py)."""
import os
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "mp"))

from fakenor import FakeNor  # noqa: E402
from hal import spiflash  # noqa: E402
from hal.partition import Partition  # noqa: E402
from hal.spiflash import SpiFlash  # noqa: E402

FUZZ = settings(derandomize=True, max_examples=int(os.environ.get("FUZZ_EXAMPLES", "200")), deadline=None)
BS = 4096


class FakeTime:
    """MicroPython's ticks_ms/ticks_diff/sleep_ms on a clock that moves only when slept on (and 1 ms per look)."""

    def __init__(self):
        self.now = 0
        self.slept = 0

    def ticks_ms(self):
        self.now += 1
        return self.now

    def ticks_diff(self, a, b):
        return a - b

    def sleep_ms(self, ms):
        self.now += ms
        self.slept += ms


@pytest.fixture
def clock(monkeypatch):
    t = FakeTime()
    monkeypatch.setattr(spiflash, "time", t)
    return t


def flash(size=1 << 20, **kw):
    chip = FakeNor(size, **kw)
    return chip, SpiFlash(chip, chip.cs)


def test_geometry_from_the_jedec_capacity(clock):
    for code, blocks in ((0x18, 4096), (0x17, 2048)):  # W25Q128JV 16 MB, W25Q64JV 8 MB
        chip = FakeNor(1 << 16, jedec=(0xEF, 0x40, code))
        dev = SpiFlash(chip, chip.cs)
        assert dev.id == (0xEF, 0x40, code)
        assert dev.ioctl(4, 0) == blocks and dev.ioctl(5, 0) == BS
    chip = FakeNor(1 << 16, jedec=(0xEF, 0x40, 0x18))
    assert SpiFlash(chip, chip.cs, blocks=512).ioctl(4, 0) == 512
    with pytest.raises(ValueError):
        SpiFlash(chip, chip.cs, blocks=4097)


def test_no_chip_on_the_bus(clock):
    chip = FakeNor(1 << 16)
    chip.absent = True
    with pytest.raises(OSError) as e:
        SpiFlash(chip, chip.cs)
    assert e.value.args[0] == 19  # ENODEV, after waiting out a possible erase
    chip = FakeNor(1 << 16, jedec=(0xEF, 0x40, 0x19))  # 32 MB needs 4-byte addresses
    with pytest.raises(OSError):
        SpiFlash(chip, chip.cs)


def test_program_is_cut_at_page_boundaries(clock):
    chip, dev = flash()
    data = bytes((i * 7) & 0xFF for i in range(600))
    dev.program(4096 + 200, data)  # 56 + 256 + 256 + 32 bytes: four page programs
    assert chip.programs == 4
    buf = bytearray(600)
    dev.read(4096 + 200, buf)
    assert bytes(buf) == data
    assert chip.peek(4096 + 199, 1) == b"\xff" and chip.peek(4096 + 800, 1) == b"\xff"
    assert chip.violations == []


def test_programming_only_clears_bits_and_erase_restores(clock):
    chip, dev = flash()
    dev.program(10, b"\x0f\xf0")
    dev.program(10, b"\xf3\x3f")
    buf = bytearray(2)
    dev.read(10, buf)
    assert bytes(buf) == b"\x03\x30"
    dev.erase(100)  # any address inside the sector
    dev.read(10, buf)
    assert bytes(buf) == b"\xff\xff"
    assert chip.erases == {0: 1} and dev.erases == 1


def test_never_talks_to_a_busy_chip(clock):
    chip, dev = flash(busy_polls=7)
    dev.writeblocks(3, bytes(range(256)) * 16)
    dev.ioctl(6, 3)
    dev.writeblocks(3, b"\x55" * 300, 1000)
    buf = bytearray(300)
    dev.readblocks(3, buf, 1000)
    assert bytes(buf) == b"\x55" * 300
    assert chip.violations == []


def test_a_chip_stuck_busy_times_out(clock):
    chip, dev = flash()
    chip.stuck = True
    t0 = clock.now
    with pytest.raises(OSError) as e:
        dev.ioctl(6, 0)
    assert e.value.args[0] == 110  # ETIMEDOUT
    assert 1000 <= clock.now - t0 <= 1300  # bounded by the 400 ms datasheet maximum, with margin
    with pytest.raises(OSError):
        dev.program(0, b"\x00")


def test_power_down_and_wake(clock):
    chip, dev = flash()
    dev.program(0, b"hello")
    dev.sleep()
    assert chip.asleep
    assert dev.jedec_id() == (0xFF, 0xFF, 0xFF)  # a sleeping chip hears only ABh
    buf = bytearray(5)
    dev.readblocks(0, buf)  # wakes it first
    assert bytes(buf) == b"hello" and not chip.asleep
    dev.sleep()
    dev.ioctl(6, 0)
    dev.readblocks(0, buf)
    assert bytes(buf) == b"\xff" * 5
    dev.sleep()
    assert dev.ioctl(1, 0) == 0 and not chip.asleep  # vfs's init ioctl wakes it too
    assert chip.violations == []


def test_block_protocol(clock):
    chip, dev = flash()
    n = dev.ioctl(4, 0)
    dev.writeblocks(2, b"\xaa" * BS)  # simple protocol: erases, then programs
    assert chip.erases == {2: 1}
    dev.writeblocks(2, b"\x0a", 5)  # extended: programs only
    assert chip.erases == {2: 1}
    buf = bytearray(8)
    dev.readblocks(2, buf)
    assert bytes(buf) == b"\xaa" * 5 + b"\x0a" + b"\xaa" * 2
    assert dev.ioctl(6, 2) == 0 and chip.erases == {2: 2}
    assert dev.ioctl(3, 0) == 0 and dev.ioctl(2, 0) == 0
    for bad in (lambda: dev.readblocks(n, buf), lambda: dev.readblocks(n - 1, buf, BS - 4), lambda: dev.ioctl(6, n)):
        with pytest.raises(OSError):
            bad()


def test_partition_maps_and_fences(clock):
    chip, dev = flash()
    p = Partition(dev, 16, 8)
    assert p.ioctl(4, 0) == 8 and p.ioctl(5, 0) == BS
    p.ioctl(6, 0)
    p.writeblocks(0, b"part", 10)
    assert chip.peek(16 * BS + 10, 4) == b"part"
    p.writeblocks(7, b"\x11" * BS)
    assert chip.erases.get(23) == 1
    buf = bytearray(4)
    p.readblocks(0, buf, 10)
    assert bytes(buf) == b"part"
    for bad in (lambda: p.readblocks(8, buf), lambda: p.writeblocks(7, buf, BS - 2), lambda: p.ioctl(6, 8), lambda: p.ioctl(6, -1)):
        with pytest.raises(OSError):
            bad()
    assert chip.erases.get(24) is None and chip.erases.get(15) is None
    with pytest.raises(ValueError):
        Partition(dev, 250, 8)  # a 1 MB chip has 256 blocks


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("erase"), st.integers(0, 3)),
        st.tuples(st.just("program"), st.integers(0, 4 * BS - 1), st.binary(min_size=1, max_size=700)),
    ),
    max_size=12,
)


@FUZZ
@given(OPS)
def test_fuzz_against_a_nor_model(ops):
    t = FakeTime()
    old = spiflash.time
    spiflash.time = t
    try:
        chip = FakeNor(4 * BS, jedec=(0xEF, 0x40, 0x0E))  # capacity code below 0x10: too small for the driver
        with pytest.raises(OSError):
            SpiFlash(chip, chip.cs)
        chip = FakeNor(1 << 16)
        dev = SpiFlash(chip, chip.cs, blocks=4)
        model = bytearray(b"\xff" * (4 * BS))
        for op in ops:
            if op[0] == "erase":
                dev.ioctl(6, op[1])
                model[op[1] * BS : (op[1] + 1) * BS] = b"\xff" * BS
            else:
                addr, data = op[1], op[2][: 4 * BS - op[1]]
                dev.writeblocks(addr // BS, data, addr % BS)
                for i, b in enumerate(data):
                    model[addr + i] &= b
        out = bytearray(4 * BS)
        dev.readblocks(0, out)
        assert out == model
        assert chip.violations == []
    finally:
        spiflash.time = old
