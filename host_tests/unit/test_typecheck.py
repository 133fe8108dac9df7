"""tools/typecheck.py: the device code passes mypy against the stm32 stubs, and a wrong machine call fails it."""
import importlib.util
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import typecheck  # noqa: E402

PLANTED = '''

def _planted():
    meter = machine.UART(1, baudrate="fast")  # planted: a baud rate is an int
    led = machine.Pin(cpu_pin("PB0"), machine.Pin.OUT)
    led.blink(3)  # planted: machine.Pin has no blink()
    machine.WDT(timeout_ms=8000)  # planted: the keyword is timeout
    return meter
'''


def test_the_device_tree_passes():
    code, out = typecheck.check([os.path.join(ROOT, p) for p in typecheck.CHECKED])
    assert code == 0, out
    assert "Success" in out


def test_a_wrong_machine_call_fails(tmp_path):
    src = os.path.join(ROOT, "boards", "nucleo_h743", "board.py")
    dst = tmp_path / "planted_board.py"
    shutil.copy(src, dst)
    with open(dst, "a") as f:
        f.write(PLANTED)
    base = sum(1 for _ in open(src))
    code, out = typecheck.check([str(dst)])
    assert code != 0, out
    lines = {n: base + 1 + i for i, n in enumerate(PLANTED.splitlines()) if "planted:" in n}
    found = [ln for ln in out.splitlines() if "planted_board.py:" in ln and ": error:" in ln]
    assert len(found) == 3, out
    for text, n in lines.items():
        assert any(":%d:" % n in ln for ln in found), (text, n, out)
    assert "[call-overload]" in out and "[attr-defined]" in out and "[call-arg]" in out
    # The unplanted copy passes: the failures are the plants, nothing else.
    shutil.copy(src, dst)
    code, out = typecheck.check([str(dst)])
    assert code == 0, out


def test_the_stubs_stay_out_of_cpython():
    stubs, _ = typecheck.install()
    assert os.path.exists(os.path.join(stubs, "machine.pyi"))
    assert importlib.util.find_spec("machine") is None
    assert not any(os.path.abspath(p).startswith(typecheck.TARGET) for p in sys.path if p)
