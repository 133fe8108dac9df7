"""boards/layout.py: the partitions fit the chip, the rings meet their retention targets and fit with headroom, wear lasts."""
import json
import os
import subprocess
import sys

import pytest

from boards import layout

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import flash_budget  # noqa: E402

MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")


def test_partitions_tile_the_chip():
    pos = 0
    for name, first, count in layout.PARTITIONS:
        assert first == pos and count > 0, name  # in order, no gap, no overlap
        pos += count
    assert pos == layout.BLOCKS
    assert layout.partition("app_a")[1] == layout.partition("app_b")[1]
    assert layout.BLOCK_SIZE % layout.PAGE_SIZE == 0
    assert layout.BLOCKS * layout.BLOCK_SIZE == 1 << layout.JEDEC_ID[2]  # the chip's own capacity code
    assert layout.BLOCKS * layout.BLOCK_SIZE <= 1 << 24  # 3-byte addresses (hal/spiflash.py)
    with pytest.raises(KeyError):
        layout.partition("nope")


def test_app_slot_holds_the_application_with_room_to_grow(tmp_path):
    # The deployable tree today (firmware/, hal/, boards/ as .mpy) must fit a
    # slot with room to grow: at most a third of it.
    out = str(tmp_path / "mpy")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "build_mpy.py"), "--out", out],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    size = 0
    for d, _, files in os.walk(out):
        size += sum(os.path.getsize(os.path.join(d, f)) for f in files)
    slot = layout.partition("app_a")[1] * layout.BLOCK_SIZE
    assert size * 3 <= slot, (size, slot)


def test_rings_meet_their_retention_targets():
    names = [r[0] for r in layout.RINGS]
    assert sorted(names) == sorted(flash_budget.TARGETS)
    for name, obis, record, count in layout.RINGS:
        text, minimum, typ, mx = flash_budget.TARGETS[name]
        assert count >= minimum, (name, count, minimum)
        assert layout.ring(name) == (record, count)
        assert record <= layout.BLOCK_SIZE and layout.BLOCK_SIZE // record >= 8, name
    assert layout.ring("profile1")[1] >= 92 * 96  # 15 min for 3 months
    assert layout.ring("daily")[1] >= 731  # 2 years
    assert layout.ring("monthly")[1] >= 60  # 5 years
    assert layout.ring("wmbus") == (272, 10000)  # 10 000 telegrams of up to 256 bytes, plus the record header
    obis = [r[1] for r in layout.RINGS]
    assert len(set(obis)) == len(obis)


def test_everything_fits_the_data_partition_with_headroom():
    b = flash_budget.budget()
    data = layout.partition("data")[1]
    assert b["data_blocks"] == data
    assert b["used"] + b["free"] == data
    assert b["used"] <= 0.75 * data, b["used"]  # littlefs needs free blocks to level wear and to stay fast


def test_wear_lasts_the_service_life_at_the_design_maximum():
    b = flash_budget.budget()
    for key in ("typ", "max"):
        assert b[key]["life_erases"] <= layout.ERASE_CYCLES, (key, b[key])
        assert b[key]["years_to_rating"] >= flash_budget.LIFE_YEARS
    assert b["typ"]["erases_per_day"] < b["max"]["erases_per_day"]


def test_the_smaller_chip_would_not_last():
    # Why the 16 MB part: the 8 MB one runs out of free blocks for wear levelling.
    a = flash_budget.budget(flash_budget.ALTERNATIVE[1] - layout.partition("data")[0])
    assert a["max"]["years_to_rating"] < flash_budget.LIFE_YEARS


@pytest.mark.parametrize("record,records,keep", [(64, 3000, 40), (272, 1500, 60)])
def test_littlefs_wear_model_holds(record, records, keep):
    # The budget's erases per record (copy-on-write of the last block, padded
    # metadata commits) measured on littlefs itself over the twin's NOR.
    blocks, static = 256, 60
    r = subprocess.run(
        [MICROPYTHON, "-X", "heapsize=4M", os.path.join(ROOT, "host_tests", "mp", "wear_probe.py"), ROOT,
         str(blocks), str(record), str(records), str(keep), str(static)],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    per_record = got["erases"] / got["records"]
    assert 0.8 <= per_record <= flash_budget.erases_per_record(record), per_record
    held = static + keep + 8  # the static file, the ring, metadata
    worst = got["erases"] / (blocks - held) + 3 * flash_budget.BLOCK_CYCLES
    assert got["most"] <= worst, got


def test_board_doc_tables_are_current():
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "flash_budget.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_boards_and_hal_do_not_import_firmware():
    # Arrows point down (design.md): only a board's entry point starts the
    # firmware. The twin (boards/unix) is left out: its emulated RTC borrows
    # firmware/caltime.py's calendar arithmetic.
    import ast

    for tree in ("boards", "hal"):
        for d, _, files in os.walk(os.path.join(ROOT, tree)):
            if os.path.basename(d) == "unix":
                continue
            for f in files:
                if not f.endswith(".py") or f == "main.py":
                    continue
                path = os.path.join(d, f)
                with open(path) as fh:
                    mod = ast.parse(fh.read())
                for node in ast.walk(mod):
                    names = []
                    if isinstance(node, ast.Import):
                        names = [a.name for a in node.names]
                    elif isinstance(node, ast.ImportFrom) and node.module:
                        names = [node.module]
                    for n in names:
                        assert n.split(".")[0] != "firmware", (path, n)
