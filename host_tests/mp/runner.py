# Runs one test function of a host_tests/mp file on the MicroPython unix port: runner.py FILE TEST
import sys

ROOT = sys.argv[1]
sys.path.insert(0, ROOT)
sys.path.insert(0, ROOT + "/host_tests/mp")
mod_name = sys.argv[2]
test = sys.argv[3]
mod = __import__(mod_name)
fn = getattr(mod, test)
r = fn()
if hasattr(r, "send"):  # an async test: run it on the loop, as the firmware runs
    import asyncio

    asyncio.run(r)
print("MPTEST-PASS")
