"""TCP setup 0.0.25.0.0.255 (class 41): the port and inactivity time the DLMS link really uses, set by the meter reader."""
import struct

from test_dlms import READER, Raw

TCP_SETUP = "0.0.25.0.0.255"
_LN = b"\x00\x00\x19\x00\x00\xff"


def _set_long_unsigned(r, attr, value):
    apdu = b"\xc1\x01\xc1" + struct.pack(">H", 41) + _LN + bytes((attr, 0)) + b"\x12" + struct.pack(">H", value)
    resp = r.request(apdu)
    assert resp[:3] == b"\xc5\x01\xc1", resp.hex()
    return resp[3]


def test_tcp_setup_reads_what_the_link_uses(twin):
    with Raw(twin.dlms_port) as r:
        assert r.associate() == (0, 0)
        assert r.get(41, TCP_SETUP, 2) == (1, 3)  # public: logical_name only
    with Raw(twin.dlms_port, client=READER) as r:
        assert r.associate(b"HELLO") == (0, 0)
        assert r.get(41, TCP_SETUP, 2) == (0, b"\x12\x0f\xdb")  # 4059
        assert r.get(41, TCP_SETUP, 3) == (0, b"\x09\x06\x00\x00\x19\x01\x00\xff")
        assert r.get(41, TCP_SETUP, 5) == (0, b"\x11\x01")  # one connection only
        assert r.get(41, TCP_SETUP, 6) == (0, b"\x12\x01\x2c")  # 300 s


def test_inactivity_time_set_over_dlms_takes_effect(twin):
    with Raw(twin.dlms_port, client=READER) as r:
        assert r.associate(b"HELLO") == (0, 0)
        assert _set_long_unsigned(r, 6, 60) == 0
        assert _set_long_unsigned(r, 4, 536) == 3  # MSS is not writable
    r = Raw(twin.dlms_port, client=READER)
    try:
        assert r.associate(b"HELLO") == (0, 0)
        twin.advance(55)
        assert r.get(41, TCP_SETUP, 6) == (0, b"\x12\x00\x3c")  # still open after 55 s
        twin.advance(61)
        assert r.closed_by_device(5)
    finally:
        r.close()
    assert twin.status()["device"]["config"]["INACT"] == 60


def test_port_change_moves_the_listener_and_keeps_the_session(twin):
    with Raw(twin.dlms_port, client=READER) as r:
        assert r.associate(b"HELLO") == (0, 0)
        assert _set_long_unsigned(r, 2, 0) == 12  # type-unmatched: no port 0
        assert _set_long_unsigned(r, 2, 4060) == 0
        # the session that changed it carries on
        assert r.get(41, TCP_SETUP, 2) == (0, b"\x12\x0f\xdc")
    st = twin.status()["device"]
    assert st["config"]["PORT"] == 4060
    assert st["dlms"]["listening"] == twin.dlms_port  # the twin maps the device's port to the same host port
    log = twin.status()["board"]["net"]
    assert [k for k, _ in log].count("listen") == 2  # it listened anew
    with Raw(twin.dlms_port, client=READER) as r:
        assert r.associate(b"HELLO") == (0, 0)
    twin.cmd("reset")
    st = twin.wait_ready(boots=2)
    assert st["device"]["config"]["PORT"] == 4060
