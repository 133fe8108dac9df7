"""The object table, its generated forms and the manual's object list agree."""
import csv
import os
import subprocess
import sys

from firmware.cosem import objects, obis

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_every_manual_object_with_its_class():
    with open(os.path.join(ROOT, "docs", "obis-objects.tsv")) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert len(rows) == objects.COUNT == 275
    for row in rows:
        i = objects.find(obis.parse(row["obis"]))
        assert i >= 0, row["obis"]
        assert objects.class_id(i) == int(row["class_id"]), row


def test_generated_files_are_current():
    for tool in ("gen_objects.py", "gen_readme.py"):
        r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", tool), "--check"], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr


def test_access_rules():
    # the public client writes and operates nothing; nobody reads a secret
    for i in range(objects.COUNT):
        r, w, m = objects.access(i, objects.PUBLIC)
        assert w == 0 and m == 0, obis.fmt(objects.logical_name(i))
        if objects.class_id(i) == 15:
            for c in (objects.PUBLIC, objects.READER, objects.UTILITY):
                assert not (objects.access(i, c)[0] >> 7) & 1
