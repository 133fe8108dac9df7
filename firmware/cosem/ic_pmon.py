"""Class 65 Parameter monitor (Blue Book 4.5.9): the last change of profile 1's or 2's parameters, and their values."""
# 0.0.16.2.0.255 watches profile 1, 0.0.16.2.1.255 profile 2 (manual 4.1:
# "Profile N parameters definition"): their capture_objects (attribute 3)
# and capture_period (attribute 4). The watched list is fixed, so
# parameter_list is read-only and add/delete_parameter are not offered.
from firmware.cosem import model, objects
from firmware.cosem import ic_profile
from firmware.cosem.ic_demand import _time

_PROFILES = (b"\x01\x00\x63\x01\x00\xff", b"\x01\x00\x63\x02\x00\xff")
_WATCHED = (3, 4)


def _profile_ln(i):
    return _PROFILES[objects.logical_name(i)[4]]


def _value(m, sess, ln, attr, w):
    # the watched attribute's current value, written by the profile's own code
    j = objects.find(ln)
    g = ic_profile.get(m, sess, j, attr, None, None, w)
    if isinstance(g, int):
        w.null()
        yield
        return
    for _ in g:
        yield


def _changed(m, sess, i, w):
    ch = m.dev.config.get("PMON")[objects.logical_name(i)[4]]
    if not ch:
        w.structure(4)
        w.long_unsigned(0)
        w.octet_string(b"\x00" * 6)
        w.integer(0)
        w.null()
        yield
        return
    ln = _profile_ln(i)
    w.structure(4)
    w.long_unsigned(7)
    w.octet_string(ln)
    w.integer(ch[0])
    yield
    for _ in _value(m, sess, ln, ch[0], w):
        yield


def _list(m, sess, i, w, with_values):
    ln = _profile_ln(i)
    w.array(len(_WATCHED))
    yield
    for a in _WATCHED:
        w.structure(4 if with_values else 3)
        w.long_unsigned(7)
        w.octet_string(ln)
        w.integer(a)
        yield
        if with_values:
            for _ in _value(m, sess, ln, a, w):
                yield


def get(m, sess, i, attr, selector, params, w):
    if attr == 2:
        return _changed(m, sess, i, w)
    if attr == 3:
        ch = m.dev.config.get("PMON")[objects.logical_name(i)[4]]
        return model.one(_time, w, m, ch[1] if ch else None)
    return _list(m, sess, i, w, attr == 5)


def set(m, sess, i, attr, value):
    return model.READ_WRITE_DENIED
