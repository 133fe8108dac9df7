import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# host_tests/mp holds MicroPython test files; test_micropython.py runs them there.
collect_ignore = ["mp"]
