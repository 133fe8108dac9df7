"""The product's data flash: SPI NOR geometry (Winbond W25Q128JV datasheet), partition table and ring sizes."""
# One description for every board and for the digital twin: boards/unix
# builds its flash image from these numbers, a real board checks its chip's
# JEDEC capacity against them, and the storage code sizes its rings from
# RINGS. Why these numbers (retention targets, littlefs overhead, wear over
# the product's life) is tools/flash_budget.py, which prints the table in
# README.md; host_tests/unit/test_layout.py keeps them in step.
#
# The MCU's internal flash holds MicroPython itself and, in its small
# /flash file system, boot.py, main.py and the modules needed to reach this
# chip; nothing writes it at run time (it erases 128 KB at a time and is
# rated for 10 000 cycles). Everything the device writes goes here.

CHIP = "W25Q128JV"
JEDEC_ID = (0xEF, 0x40, 0x18)  # Winbond, SPI NOR, 2^24 bytes
BLOCK_SIZE = 4096  # the 4 KB sector erase (20h): littlefs's block
PAGE_SIZE = 256  # one page program (02h): littlefs's prog size
BLOCKS = 4096  # 16 MB
ERASE_CYCLES = 100000  # per sector, the datasheet's minimum endurance

# name, first block, blocks. Application slots first and fixed; the data
# file system takes the rest, so a bigger chip only grows it.
PARTITIONS = (
    ("app_a", 0, 256),  # 1 MB: application slot A (littlefs holding the app's .mpy tree)
    ("app_b", 256, 256),  # 1 MB: application slot B; an upgrade writes the slot not running
    ("data", 512, 3584),  # 14 MB: littlefs with the settings and every ring below
)

# Rings on the data partition: name, logical name of the COSEM object that
# serves it, bytes per record (sequence number, time, status, values, CRC),
# records kept. A ring keeps one more block than its records need, the one
# being filled while the oldest is dropped.
RINGS = (
    ("profile1", "1.0.99.1.0.255", 64, 8832),  # 15 min for 92 days
    ("profile2", "1.0.99.2.0.255", 64, 8832),  # 60 min for 368 days (or 15 min for 92)
    ("daily", "1.0.99.3.0.255", 128, 732),  # two years of days
    ("monthly", "1.0.99.4.0.255", 128, 60),  # five years of months
    ("events1", "1.0.99.98.0.255", 32, 500),  # critical states and attacks
    ("events2", "1.0.99.98.1.255", 32, 1000),  # calendar actions
    ("events3", "1.0.99.98.2.255", 32, 1000),  # blackouts and voltage problems
    ("events4", "1.0.99.98.3.255", 32, 1000),  # module internal states
    ("events5", "1.0.99.98.4.255", 32, 500),  # direct commands
    ("events6", "1.0.99.98.5.255", 32, 500),  # limiter
    ("debug", "1.0.99.98.6.255", 64, 4000),  # 2N debugging log
    ("wmbus", "0.0.128.0.0.255", 272, 10000),  # Wireless M-Bus readings: a telegram of up to 256 bytes each
)


def partition(name):
    """(first block, block count) of a partition."""
    for n, first, count in PARTITIONS:
        if n == name:
            return first, count
    raise KeyError(name)


def ring(name):
    """(record bytes, records kept) of a ring."""
    for r in RINGS:
        if r[0] == name:
            return r[2], r[3]
    raise KeyError(name)


def ring_blocks(record, count):
    """Blocks a ring of count records of `record` bytes occupies: whole records per block, plus the one being filled."""
    per = BLOCK_SIZE // record
    return (count + per - 1) // per + 1
