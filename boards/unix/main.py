"""The twin's entry point on the MicroPython unix port: build the emulated board, run the firmware on it."""
# Started by tools/twin.py as: micropython boards/unix/main.py '<json options>'
import json
import sys

opts = json.loads(sys.argv[1])
sys.path.insert(0, opts["root"])

from boards.unix.board import Board  # noqa: E402
from firmware import app  # noqa: E402

app.main(Board(opts))
