"""NUCLEO-H743ZI2 main.py, copied to /flash/main.py: build the board, mount the application slot, run the application."""
# boot.py has started the watchdog. The board module and the drivers it needs
# to reach the SPI NOR live in the internal /flash file system beside this
# file; the application comes from slot A of the NOR (boards/layout.py),
# mounted at /app ahead of /flash, or from /flash while the slot is empty.
# The application then mounts the data partition and starts its tasks.
from boards.nucleo_h743.board import Board

board = Board()
board.mount_app()

from firmware import app  # noqa: E402  (after the slot is on sys.path)

app.main(board)
