"""The few differences between MicroPython and CPython 3.11, in one place (design.md, two runtimes)."""
import sys

try:
    from micropython import const
except ImportError:  # CPython: const() is an identity there

    def const(x):
        return x


MICROPYTHON = sys.implementation.name == "micropython"


def int_from_be_signed(b):
    # MicroPython's int.from_bytes ignores the signed flag, so sign-extend by hand.
    v = int.from_bytes(b, "big")
    if b and b[0] & 0x80:
        v -= 1 << (8 * len(b))
    return v


def hexstr(b):
    return "".join("%02X" % x for x in b)
