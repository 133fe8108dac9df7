"""The data flash budget: ring depths from retention targets, littlefs overhead and wear over the product's life.

    tools/flash_budget.py                  print the flash tables (markdown)
    tools/flash_budget.py --write [FILE]   put them into FILE (default README.md) between the markers
    tools/flash_budget.py --check [FILE]   fail when FILE's tables are not what boards/layout.py gives

The sizes live in boards/layout.py (the device reads them); the targets, the
write rates and the littlefs model that justify them live here, on the host.

The littlefs model (MicroPython's VfsLfs2: block 4096, prog 256, block_cycles
100). A ring is a folder of segment files of one block each; a record is
appended and the file synced, so a power cut loses at most that record.
- Appending to a file whose last block is not full copies that block to a
  fresh one (littlefs is copy-on-write): one block erase per record.
- Each sync commits the file's new size to its folder's metadata pair, a
  commit padded to the 256-byte prog size. A metadata block is compacted
  when full and split when more than half of it stays live, so at least 8
  commits fit between two erases of it; after 100 erases (block_cycles) the
  pair moves to other blocks, one more erase.
- A new segment and the deletion of the oldest add two commits per segment.
- littlefs levels wear dynamically: its allocator walks the whole partition
  in a circle and takes the next free block, so erases fall on the blocks
  that are free as it passes. The worst case counts only the blocks that
  are free at any moment (rings that never turn over would hold theirs for
  ever); the even case spreads them over the partition. A measured run
  (host_tests/mp/test_layout.py) stays between the two. A block that holds
  a metadata pair takes up to block_cycles erases in one stint; three
  stints are added to the worst case.
"""
import argparse
import math
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from boards import layout  # noqa: E402

LIFE_YEARS = 20  # the meter's service life the flash must outlast
DAY = 86400

# littlefs as MicroPython configures it (extmod/vfs_lfsx.c) and hal/flashfs.py mounts it.
PROG = layout.PAGE_SIZE
BLOCK_CYCLES = 100
COMMITS_PER_METADATA_ERASE = 8
ENTRY = 32  # bytes of a file's entry in its folder's metadata (name, struct, tags)
SETTINGS_BLOCKS = 64  # config, state, factory identity, meter lists, calendars, their temporaries
SETTINGS_WRITES = (5, 50)  # saves per day, typical and design maximum

# What each ring must hold, and how fast it is written (records per day,
# typical and the design maximum the wear budget must survive).
#   name: (retention target, minimum records, typical/day, maximum/day)
TARGETS = {
    "profile1": ("15 min for at least 3 months (92 days)", 92 * DAY // 900, 96, 96),
    "profile2": ("60 min for a year (368 days); 15 min for 92 days", 368 * DAY // 3600, 24, 96),
    "daily": ("daily for 2 years", 2 * 366, 1, 1),
    "monthly": ("monthly for 5 years", 5 * 12, 1 / 30, 1 / 28),
    "events1": ("500 events", 500, 1, 20),
    "events2": ("1000 events", 1000, 8, 50),
    "events3": ("1000 events", 1000, 2, 100),
    "events4": ("1000 events", 1000, 30, 200),
    "events5": ("500 events", 500, 2, 50),
    "events6": ("500 events", 500, 1, 50),
    "debug": ("4000 lines (debug firmware only)", 4000, 0, 1000),
    "wmbus": ("10 000 readings of up to 256 bytes", 10000, 64 * 24, 64 * 96),
}
RATE_NOTES = {
    "wmbus": "typical: 64 meters hourly; maximum: 64 meters every 15 min",
    "profile2": "maximum: a 15 min capture period",
    "debug": "maximum: a debug firmware logging 1000 lines a day",
}

# The alternative the 16 MB chip was chosen over.
ALTERNATIVE = ("W25Q64JV", 2048)


def metadata_erases_per_commit():
    return (1 + 1 / BLOCK_CYCLES) / COMMITS_PER_METADATA_ERASE


def erases_per_record(record):
    per = layout.BLOCK_SIZE // record
    commits = 1 + 2 / per
    return 1 + commits * metadata_erases_per_commit()


def rings():
    """One row per ring: name, obis, record, count, target text, min count, blocks, meta blocks, rates."""
    rows = []
    for name, obis, record, count in layout.RINGS:
        text, minimum, typ, mx = TARGETS[name]
        blocks = layout.ring_blocks(record, count)
        pairs = max(1, math.ceil(blocks * ENTRY / (layout.BLOCK_SIZE / 2)))
        rows.append(
            {
                "name": name,
                "obis": obis,
                "record": record,
                "count": count,
                "target": text,
                "minimum": minimum,
                "blocks": blocks,
                "meta": 2 * pairs,
                "typ": typ,
                "max": mx,
                "epr": erases_per_record(record),
            }
        )
    return rows


def budget(data_blocks=None):
    """The whole budget for a data partition of data_blocks (default: the layout's)."""
    if data_blocks is None:
        data_blocks = layout.partition("data")[1]
    rs = rings()
    ring_blocks = sum(r["blocks"] for r in rs)
    meta = 2 + sum(r["meta"] for r in rs)  # the root pair and one folder per ring
    inflight = len(rs)  # the copy of each ring's last block, while it is written
    used = ring_blocks + meta + SETTINGS_BLOCKS + inflight
    free = data_blocks - used
    settings_epr = 1 + 2 * metadata_erases_per_commit()  # a new file, then the rename
    out = {"data_blocks": data_blocks, "ring_blocks": ring_blocks, "meta": meta, "settings": SETTINGS_BLOCKS}
    out.update({"inflight": inflight, "used": used, "free": free, "rings": rs})
    for i, key in ((0, "typ"), (1, "max")):
        per_day = sum(r[key] * r["epr"] for r in rs) + SETTINGS_WRITES[i] * settings_epr
        worst = per_day / free  # erases per block per day, only the free blocks taking them
        even = per_day / data_blocks
        life = worst * 365 * LIFE_YEARS + 3 * BLOCK_CYCLES
        out[key] = {
            "records_per_day": sum(r[key] for r in rs),
            "erases_per_day": per_day,
            "worst_per_block_day": worst,
            "even_per_block_day": even,
            "life_erases": life,
            "life_share": life / layout.ERASE_CYCLES,
            "years_to_rating": (layout.ERASE_CYCLES - 3 * BLOCK_CYCLES) / worst / 365,
        }
    return out


def _n(x, nd=0):
    if nd:
        return "{:,.{}f}".format(x, nd)
    return "{:,}".format(int(round(x)))


def tables():
    b = budget()
    kb = layout.BLOCK_SIZE // 1024
    L = []
    L.append("<!-- flash budget: generated by tools/flash_budget.py from boards/layout.py -->")
    L.append("")
    L.append("**%s, %d MB**: %d blocks of %d KB (the 4 KB sector erase), 256-byte pages, %s erase cycles per sector."
             % (layout.CHIP, layout.BLOCKS * layout.BLOCK_SIZE >> 20, layout.BLOCKS, kb, _n(layout.ERASE_CYCLES)))
    L.append("")
    L.append("| partition | blocks | size | holds |")
    L.append("|---|---|---|---|")
    what = {
        "app_a": "application slot A: littlefs with the app's .mpy tree",
        "app_b": "application slot B: the slot an upgrade writes while the other runs",
        "data": "littlefs: settings and every ring below",
    }
    for name, first, count in layout.PARTITIONS:
        L.append("| %s | %d-%d | %s KB | %s |" % (name, first, first + count - 1, _n(count * kb), what[name]))
    L.append("")
    L.append("| ring | COSEM object | record | records | blocks | retention target | at the typical rate |")
    L.append("|---|---|---|---|---|---|---|")
    for r in b["rings"]:
        days = "-" if not r["typ"] else "%s days" % _n(r["count"] / r["typ"])
        L.append("| %s | %s | %d B | %s | %d | %s | %s |" % (r["name"], r["obis"], r["record"], _n(r["count"]),
                                                        r["blocks"], r["target"], days))
    L.append("")
    d = b["data_blocks"]
    L.append("| data partition | blocks | share |")
    L.append("|---|---|---|")
    for label, n in (("rings", b["ring_blocks"]), ("littlefs metadata (root and one folder per ring)", b["meta"]),
                     ("settings and tables", b["settings"]), ("blocks in flight (one per ring)", b["inflight"]),
                     ("**used**", b["used"]), ("**free**", b["free"])):
        L.append("| %s | %s | %d %% |" % (label, _n(n), round(100 * n / d)))
    L.append("")
    L.append("| wear over %d years | typical | design maximum |" % LIFE_YEARS)
    L.append("|---|---|---|")
    t, m = b["typ"], b["max"]
    rows = (
        ("records written per day", _n(t["records_per_day"]), _n(m["records_per_day"])),
        ("block erases per day (littlefs copy-on-write and metadata)", _n(t["erases_per_day"]), _n(m["erases_per_day"])),
        ("erases per block per day, spread over the partition", _n(t["even_per_block_day"], 2), _n(m["even_per_block_day"], 2)),
        ("erases per block per day, worst case (free blocks only)", _n(t["worst_per_block_day"], 2), _n(m["worst_per_block_day"], 2)),
        ("erases of the most worn block in %d years (worst case)" % LIFE_YEARS, _n(t["life_erases"]), _n(m["life_erases"])),
        ("share of the rated %s cycles" % _n(layout.ERASE_CYCLES), "%d %%" % round(100 * t["life_share"]),
         "%d %%" % round(100 * m["life_share"])),
        ("years until the rating (worst case)", _n(t["years_to_rating"]), _n(m["years_to_rating"])),
    )
    for row in rows:
        L.append("| %s | %s | %s |" % row)
    L.append("")
    alt, blocks = ALTERNATIVE
    a = budget(blocks - layout.partition("data")[0])
    L.append("With the %d MB %s and the same application slots the data partition has %s blocks, %s of them free; "
             "at the design maximum its most worn block reaches the rating in %s years (worst case), short of %d."
             % (blocks * layout.BLOCK_SIZE >> 20, alt, _n(a["data_blocks"]), _n(a["free"]),
                _n(a["max"]["years_to_rating"]), LIFE_YEARS))
    L.append("")
    L.append("<!-- end of flash budget -->")
    return "\n".join(L) + "\n"


_BEGIN = "<!-- flash budget:"
_END = "<!-- end of flash budget -->\n"


def _splice(text, new):
    i = text.find(_BEGIN)
    j = text.find(_END)
    if i < 0 or j < i:
        raise ValueError("no flash budget markers")
    return text[:i] + new + text[j + len(_END):]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--write", nargs="?", const=os.path.join(ROOT, "README.md"), metavar="FILE")
    g.add_argument("--check", nargs="?", const=os.path.join(ROOT, "README.md"), metavar="FILE")
    a = ap.parse_args(argv)
    new = tables()
    if not (a.write or a.check):
        sys.stdout.write(new)
        return 0
    path = a.write or a.check
    with open(path) as f:
        text = f.read()
    want = _splice(text, new)
    if a.check:
        if want != text:
            sys.stderr.write("%s: the flash budget tables are out of date: run tools/flash_budget.py --write\n" % path)
            return 1
        return 0
    with open(path, "w") as f:
        f.write(want)
    return 0


if __name__ == "__main__":
    sys.exit(main())
