"""NUCLEO-H743ZI2 boot.py, copied to /flash/boot.py: the watchdog first, so the rest of the boot is watched (tve/mqboard's order)."""
# MicroPython runs boot.py, then main.py. Nothing here may fail before the
# watchdog runs: it imports machine alone, not the board, whose imports
# could be what is broken. A device that cannot finish booting is then
# reset within the timeout instead of hanging; boards/nucleo_h743/board.py
# takes the same watchdog over (starting it again only sets a new timeout).
import machine

machine.WDT(timeout=8000)  # pins.WDT_MS
