"""Compile firmware/, hal/ and boards/ with mpy-cross: --check (compile to a temp dir) or --out DIR."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TREES = ("firmware", "hal", "boards")


def sources():
    for tree in TREES:
        for d, dirs, files in os.walk(os.path.join(ROOT, tree)):
            dirs[:] = sorted(x for x in dirs if x != "__pycache__")
            for f in sorted(files):
                if f.endswith(".py"):
                    yield os.path.relpath(os.path.join(d, f), ROOT)


def mpy_cross():
    exe = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    return exe if os.path.exists(exe) else shutil.which("mpy-cross")


def build(out, verbose=False):
    mc = mpy_cross()
    if not mc:
        sys.exit("mpy-cross not found (run make, which installs it in .venv)")
    failures = []
    n = 0
    for rel in sources():
        dst = os.path.join(out, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        # -s keeps the source name short in tracebacks, as on a board.
        r = subprocess.run([mc, "-s", rel, "-o", dst, rel], cwd=ROOT, capture_output=True, text=True)
        n += 1
        if r.returncode:
            failures.append("%s: %s" % (rel, (r.stderr or r.stdout).strip()))
        elif verbose:
            print(rel)
    return n, failures


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--check", action="store_true", help="compile everything, keep nothing")
    g.add_argument("--out", help="write the .mpy tree here")
    a = ap.parse_args()
    if a.check:
        with tempfile.TemporaryDirectory() as tmp:
            n, failures = build(tmp)
    else:
        if os.path.isdir(a.out):
            shutil.rmtree(a.out)
        n, failures = build(a.out)
    for f in failures:
        print("mpy-cross:", f, file=sys.stderr)
    if failures:
        sys.exit(1)
    print("mpy-cross: %d modules compiled%s" % (n, "" if a.check else " into " + a.out))


if __name__ == "__main__":
    main()
