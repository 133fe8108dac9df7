"""Runs each test function of host_tests/mp/test_*.py on the MicroPython unix port, one pytest test each."""
import ast
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MP_DIR = os.path.join(HERE, "mp")
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")


def _cases():
    for name in sorted(os.listdir(MP_DIR)):
        if name.startswith("test_") and name.endswith(".py"):
            with open(os.path.join(MP_DIR, name)) as f:
                tree = ast.parse(f.read())
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
                    yield pytest.param(name[:-3], node.name, id="%s::%s" % (name[:-3], node.name))


@pytest.mark.parametrize("module,test", list(_cases()))
def test_on_micropython(module, test):
    r = subprocess.run(
        [MICROPYTHON, "-X", "heapsize=4M", os.path.join(MP_DIR, "runner.py"), ROOT, module, test],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = r.stdout + r.stderr
    assert r.returncode == 0 and "MPTEST-PASS" in r.stdout, out
