"""Class 7 Profile generic version 1 (Blue Book 4.3.6): load profiles and event logs, the buffer read by range or entry."""
# The buffer is never built in RAM: its generator reads one row from the
# ring, writes it as a structure and yields, so a month of 15-minute rows
# leaves the device block by block. Rows are counted before the first yield
# (the array's length comes first) from the ring's sequence numbers; a row
# the ring lost in between (a torn record, or the oldest block dropped while
# a long read was under way) is sent as a row of nulls, so the count holds.
from firmware import events
from firmware.cosem import dst, model, objects, regfmt
from firmware.cosem.ic_clock import settings as clock_settings
from firmware.cosem.ic_clock import status as clock_status
from firmware.dlms import axdr

_CLOCK_LN = b"\x00\x00\x01\x00\x00\xff"
_FIFO = 1


def profile_of(m, i):
    return m.dev.profiles.get(bytes(objects.logical_name(i)))


def column_type(col):
    """A-XDR tag of a capturable column, or None if it cannot be captured."""
    cid, ln, attr, di = col
    if di != 0:
        return None
    if cid == 8:
        return axdr.OCTET_STRING if (attr == 2 and bytes(ln) == _CLOCK_LN) else None
    i = objects.find(ln)
    if i < 0 or objects.class_id(i) != cid:
        return None
    if cid == 3 and attr == 2 or cid == 5 and attr in (2, 3):
        fmt = regfmt.register_format(ln)
        return fmt[0] if fmt else None
    if cid == 1 and attr == 2:
        from firmware.cosem.ic_data import _NUMERIC

        n = _NUMERIC.get(bytes(ln))
        return n[0] if n else None
    return None


def _write_value(w, tag, v):
    if v is None:
        w.null()
    elif tag == axdr.DOUBLE_LONG_UNSIGNED:
        w.double_long_unsigned(min(max(v, 0), 0xFFFFFFFF))
    elif tag == axdr.DOUBLE_LONG:
        w.double_long(min(max(v, -0x80000000), 0x7FFFFFFF))
    elif tag == axdr.LONG_UNSIGNED:
        w.long_unsigned(min(max(v, 0), 0xFFFF))
    elif tag == axdr.LONG:
        w.long(min(max(v, -0x8000), 0x7FFF))
    elif tag == axdr.UNSIGNED:
        w.unsigned(min(max(v, 0), 0xFF))
    else:
        w.null()


def _definition(w, col):
    w.structure(4)
    w.long_unsigned(col[0])
    w.octet_string(col[1])
    w.integer(col[2])
    w.long_unsigned(col[3])


def _capture_objects(cols, w):
    w.array(len(cols))
    yield
    for c in cols:
        _definition(w, c)
        yield


def _read_definition(r):
    n = r.header(axdr.STRUCTURE)
    if n != 4:
        raise axdr.AxdrError("capture object definition")
    cid = r.value(axdr.LONG_UNSIGNED)
    if r.tag() != axdr.OCTET_STRING or r.length() != 6:
        raise axdr.AxdrError("logical name")
    ln = bytes(r.raw(6))
    attr = r.value(axdr.INTEGER)
    di = r.value(axdr.LONG_UNSIGNED)
    return cid, ln, attr, di


def _read_time(r, st):
    tag = r.tag()
    if tag == axdr.OCTET_STRING:
        if r.length() != 12:
            raise axdr.AxdrError("date-time")
    elif tag != axdr.DATE_TIME:
        raise axdr.AxdrError("date-time")
    return dst.decode_to_utc(bytes(r.raw(12)), st)


def _selection(m, p, selector, params):
    """(first_seq, last_seq, column indexes) of a selective access, or a data-access-result."""
    ring = p.ring
    ncol = len(p.columns)
    if selector is None:
        if not len(ring):
            return 1, 0, range(ncol)
        return ring.first_seq, ring.last_seq, range(ncol)
    r = axdr.Reader(params)
    try:
        if r.header(axdr.STRUCTURE) != 4:
            return model.SCOPE_OF_ACCESS_VIOLATED
        if selector == 1:  # range_descriptor
            restricting = _read_definition(r)
            st = clock_settings(m.dev.config)
            t0 = _read_time(r, st)
            t1 = _read_time(r, st)
            n = r.header(axdr.ARRAY)
            want = [_read_definition(r) for _ in range(n)]
            if restricting[:3] != p.columns[0][:3] or p.columns[0][0] != 8:
                return model.SCOPE_OF_ACCESS_VIOLATED  # only the capture time column restricts
            cols = []
            for d in want:
                for k, c in enumerate(p.columns):
                    if c[0] == d[0] and bytes(c[1]) == d[1] and c[2] == d[2]:
                        cols.append(k)
                        break
                else:
                    return model.SCOPE_OF_ACCESS_VIOLATED
            if not cols:
                cols = range(ncol)
            if not len(ring) or t1 < t0:
                return 1, 0, cols
            first = ring.bisect(t0)
            last = ring.bisect(t1 + 1) - 1
            return first, last, cols
        # entry_descriptor: entries numbered from 1, the oldest kept
        e0 = r.value(axdr.DOUBLE_LONG_UNSIGNED)
        e1 = r.value(axdr.DOUBLE_LONG_UNSIGNED)
        c0 = r.value(axdr.LONG_UNSIGNED)
        c1 = r.value(axdr.LONG_UNSIGNED)
    except (axdr.AxdrError, ValueError):  # DtimeError is a ValueError
        return model.SCOPE_OF_ACCESS_VIOLATED
    n = len(ring)
    e0 = max(e0, 1)
    e1 = n if e1 == 0 else min(e1, n)
    c0 = max(c0, 1)
    c1 = ncol if c1 == 0 else min(c1, ncol)
    if c0 > c1 or c0 > ncol:
        return model.SCOPE_OF_ACCESS_VIOLATED
    if not n or e0 > e1:
        return 1, 0, range(c0 - 1, c1)
    base = ring.first_seq
    return base + e0 - 1, base + e1 - 1, range(c0 - 1, c1)


def _buffer(m, p, first, last, cols, w):
    n = max(0, last - first + 1)
    w.array(n)
    yield
    if not n:
        return
    st = clock_settings(m.dev.config)
    types = [column_type(c) for c in p.columns]
    # where each column's value sits among the stored ones (the clock is not stored)
    slot = []
    k = 0
    for c in p.columns:
        slot.append(-1 if c[0] == 8 else k)
        k += c[0] != 8
    buf = bytearray(p.ring.payload_size)
    want = first
    for seq in p.ring.scan(first, last, buf):
        while want < seq:
            _null_row(w, len(cols))
            want += 1
            yield
        if p.event:
            t, code, detail = events.row(buf)
            status = 0
            vals = (code,)
        else:
            t, status, vals = p.values(buf)
        w.structure(len(cols))
        for ci in cols:
            if slot[ci] < 0:
                dst.encode_now(w, t, st, status)
            elif p.event:
                w.long_unsigned(vals[0])
            else:
                _write_value(w, types[ci], vals[slot[ci]])
        want = seq + 1
        yield
    while want <= last:
        _null_row(w, len(cols))
        want += 1
        yield


def _null_row(w, n):
    w.structure(n)
    for _ in range(n):
        w.null()


def get(m, sess, i, attr, selector, params, w):
    p = profile_of(m, i)
    if p is None or p.ring is None:
        return model.OBJECT_UNAVAILABLE
    if attr == 2:
        sel = _selection(m, p, selector, params)
        if isinstance(sel, int):
            return sel
        return _buffer(m, p, sel[0], sel[1], sel[2], w)
    if attr == 3:
        return _capture_objects(p.columns, w)
    if attr == 4:
        return model.one(w.double_long_unsigned, p.period)
    if attr == 5:
        return model.one(w.enum, _FIFO)
    if attr == 6:
        return model.one(_definition, w, (0, b"\x00" * 6, 0, 0))  # no sort object: FIFO
    if attr == 7:
        return model.one(w.double_long_unsigned, len(p.ring))
    return model.one(w.double_long_unsigned, p.ring.capacity)


def set(m, sess, i, attr, value):
    p = profile_of(m, i)
    if p is None or p.ring is None:
        return model.OBJECT_UNAVAILABLE
    if p.event:
        return model.READ_WRITE_DENIED  # an event log's columns and trigger are fixed
    r = axdr.Reader(value)
    try:
        if attr == 3:
            n = r.header(axdr.ARRAY)
            cols = [_read_definition(r) for _ in range(n)]
            if r.remaining():
                return model.TYPE_UNMATCHED
        elif attr == 4:
            v = r.value(axdr.DOUBLE_LONG_UNSIGNED)
        else:
            return model.READ_WRITE_DENIED
    except (axdr.AxdrError, ValueError):
        return model.TYPE_UNMATCHED
    if attr == 3:
        if not cols or len(cols) > p.max_columns():
            return model.TYPE_UNMATCHED
        for c in cols:
            if column_type(c) is None:
                return model.TYPE_UNMATCHED
        p.set_columns(cols)
        m.dev.event("profile-cleared", p.ln[2])
        m.dev.param_changed(7, p.ln, 3)
        return model.SUCCESS
    if not m.dev.set_capture_period(p, v):
        return model.TYPE_UNMATCHED
    return model.SUCCESS


def action(m, sess, i, method, params, w):
    p = profile_of(m, i)
    if p is None or p.ring is None:
        return model.OBJECT_UNAVAILABLE, False
    if method == 1:  # reset: the buffer is emptied
        p.ring.clear()
        m.dev.event("profile-cleared", p.ln[2] if not p.event else 200 + p.ln[4])
        return model.SUCCESS, False
    if p.event:
        return model.OTHER_REASON, False  # an event log captures on events only
    m.dev.capture_now(p)
    return model.SUCCESS, False


def status_for(m):
    return clock_status(clock_settings(m.dev.config))
