"""Static check of device code against MicroPython's own API: mypy with the pinned micropython-stm32-stubs.

    tools/typecheck.py            check hal/ and the STM32 board (the default set below)
    tools/typecheck.py PATH...    check these files or folders instead (the tests plant errors this way)
    tools/typecheck.py --install  only make sure the checker and the stubs are installed

The stubs describe MicroPython's machine, network, vfs, stm, socket and asyncio
as the stm32 port has them, so a wrong UART/Pin/SPI call fails here and not in
the field. They are installed with pip's --target into .venv/typecheck/stubs,
never into the venv's site-packages: CPython tests must not see a `machine`
module, and the stubs replace the standard library's stubs (typeshed) for the
check. The checker goes to .venv/typecheck/mypy, from the package index only,
unless the venv already has the pinned mypy.

Device code has no annotations (typing is not imported at run time), so mypy
runs with check_untyped_defs: every call in every function body is checked
against the stubs. Where the stubs are wrong, the line carries a
`# type: ignore[code]` that names the error and says why; a stale one fails
(warn_unused_ignores). tools/typecheck.ini holds the options.
"""
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.path.join(ROOT, ".venv", "typecheck")
CONFIG = os.path.join(ROOT, "tools", "typecheck.ini")

# Pinned: MicroPython 1.29's stm32 stubs and the standard-library stubs they
# require (micropython-stdlib-stubs~=1.29.0); mypy and what it pulls in.
STUBS = ("micropython-stm32-stubs==1.29.0.post1", "micropython-stdlib-stubs==1.29.0.post2")
MYPY_VERSION = "2.4.1"
CHECKER = (
    "mypy==" + MYPY_VERSION,
    "ast-serialize==0.13.1",
    "librt==0.17.0",
    "mypy_extensions==1.2.0",
    "pathspec==1.1.1",
    "typing_extensions==4.16.0",
)

# Device code that runs on the STM32 board. boards/unix runs on the unix port
# and is checked by the twin tests instead.
CHECKED = ("hal", "boards/__init__.py", "boards/base.py", "boards/layout.py", "boards/nucleo_h743")


def _install(where, pins):
    # One folder per pin set: a changed pin reinstalls from scratch.
    stamp = os.path.join(where, ".pins")
    want = "\n".join(pins) + "\n"
    try:
        with open(stamp) as f:
            if f.read() == want:
                return
    except OSError:
        pass
    if os.path.isdir(where):
        shutil.rmtree(where)
    cmd = [sys.executable, "-m", "pip", "install", "-qq", "--disable-pip-version-check"]
    cmd += ["--no-deps", "--target", where] + list(pins)
    r = subprocess.run(cmd)
    if r.returncode:
        sys.exit("typecheck: pip could not install %s" % " ".join(pins))
    with open(stamp, "w") as f:
        f.write(want)


def _venv_has_mypy():
    try:
        from importlib.metadata import version

        return version("mypy") == MYPY_VERSION
    except Exception:
        return False


def install():
    """Make sure the stubs and the checker are there; returns (stubs folder, extra PYTHONPATH or None)."""
    stubs = os.path.join(TARGET, "stubs")
    _install(stubs, STUBS)
    if _venv_has_mypy():
        return stubs, None
    tool = os.path.join(TARGET, "mypy")
    _install(tool, CHECKER)
    return stubs, tool


def check(paths):
    """Run mypy over paths; returns (exit code, output)."""
    stubs, tool = install()
    env = dict(os.environ)
    if tool:
        env["PYTHONPATH"] = tool + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    # The stubs folder answers `import machine`; the repo root answers
    # `import hal...`, also for a copy of a board file checked from elsewhere.
    env["MYPYPATH"] = os.pathsep.join((stubs, ROOT))
    cmd = [sys.executable, "-m", "mypy", "--config-file", CONFIG]
    cmd += ["--custom-typeshed-dir", stubs, "--cache-dir", os.path.join(TARGET, "cache")]
    cmd += list(paths)
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def main(argv):
    if argv[:1] == ["--install"]:
        install()
        return 0
    paths = argv or [os.path.join(ROOT, p) for p in CHECKED]
    code, out = check(paths)
    sys.stdout.write(out)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
