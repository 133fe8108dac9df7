from firmware.compat import MICROPYTHON, int_from_be_signed, const

_K = const(3)


def test_runs_on_micropython():
    assert MICROPYTHON
    assert _K == 3


def test_signed():
    assert int_from_be_signed(b"\xff\xfe") == -2
    assert int_from_be_signed(b"\x7f") == 127
