# Measures littlefs's erases for a ring's write pattern on the twin's NOR block device, for tools/flash_budget.py's model.
# micropython wear_probe.py ROOT BLOCKS RECORD RECORDS KEEP STATIC
# A ring of one-block segment files in its own folder: each record appended
# and synced (open, append, close), the oldest segment deleted once KEEP are
# held, beside a static file of STATIC blocks that never changes. Prints one
# JSON line: records, block erases, the most erased block, blocks never free.
import json
import os
import sys

ROOT = sys.argv[1]
BLOCKS, RECORD, RECORDS, KEEP, STATIC = [int(x) for x in sys.argv[2:7]]
sys.path.insert(0, ROOT)

import vfs  # noqa: E402

from boards.unix.blockdev import FlashBlockDev  # noqa: E402
from hal import flashfs  # noqa: E402

path = "/tmp/wear_probe_%d.img" % os.getpid() if hasattr(os, "getpid") else "/tmp/wear_probe.img"
try:
    os.remove(path)
except OSError:
    pass
bd = FlashBlockDev(path, 4096, BLOCKS)
flashfs.mount(bd, "/w")
if STATIC:
    with open("/w/static", "wb") as f:
        chunk = b"s" * 4096
        for _ in range(STATIC):
            f.write(chunk)
os.mkdir("/w/ring")
per = 4096 // RECORD
rec = b"r" * RECORD
e0 = sum(bd.erases)
base = list(bd.erases)
for i in range(RECORDS):
    seg = i // per
    if i % per == 0 and seg >= KEEP:
        os.remove("/w/ring/%d" % (seg - KEEP))
    with open("/w/ring/%d" % seg, "ab") as f:
        f.write(rec)
erases = sum(bd.erases) - e0
most = max(bd.erases[b] - base[b] for b in range(BLOCKS))
vfs.umount("/w")
bd.close()
os.remove(path)
print(json.dumps({"records": RECORDS, "erases": erases, "most": most}))
