"""Class 41 TCP-UDP setup (Blue Book 4.8.3): the DLMS port and the inactivity time of the TCP link (manual 3.1, 4.1)."""
# PORT is the SMS parameter too (manual 4.2): the local port of incoming
# DLMS sessions and the remote port of outgoing calls. A new port moves the
# listener at once; a session already open carries on. An inactivity time
# of 0 switches the timeout off, as the Blue Book defines it.
from firmware.cosem import model
from firmware.dlms import axdr

_IPV4_SETUP = b"\x00\x00\x19\x01\x00\xff"  # 0.0.25.1.0.255
_MSS = 1460
_SIM_CONN = 1  # "One connection is only allowed" (manual 4.1)


def get(m, sess, i, attr, selector, params, w):
    cfg = m.dev.config
    if attr == 2:
        return model.one(w.long_unsigned, cfg.get("PORT"))
    if attr == 3:
        return model.one(w.octet_string, _IPV4_SETUP)
    if attr == 4:
        return model.one(w.long_unsigned, _MSS)
    if attr == 5:
        return model.one(w.unsigned, _SIM_CONN)
    return model.one(w.long_unsigned, cfg.get("INACT"))


def set(m, sess, i, attr, value):
    r = axdr.Reader(value)
    try:
        if r.tag() != axdr.LONG_UNSIGNED or r.remaining() != 2:
            return model.TYPE_UNMATCHED
        v = r.u16()
    except axdr.AxdrError:
        return model.TYPE_UNMATCHED
    if attr == 2:
        if v == 0:
            return model.TYPE_UNMATCHED
        m.dev.set_port(v)
    elif attr == 6:
        m.dev.config.update({"INACT": v})
    else:
        return model.READ_WRITE_DENIED
    return model.SUCCESS
