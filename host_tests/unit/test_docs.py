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
    assert len(rows) == 275
    # every object of the manual, plus the event-code objects the event logs capture
    assert objects.COUNT == 275 + 7
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


def test_extra_objects_are_the_event_codes():
    manual = set()
    with open(os.path.join(ROOT, "docs", "obis-objects.tsv")) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            manual.add(obis.parse(row["obis"]))
    extra = [obis.fmt(objects.logical_name(i)) for i in range(objects.COUNT) if bytes(objects.logical_name(i)) not in manual]
    assert sorted(extra) == ["0.0.96.11.%d.255" % e for e in range(7)]
