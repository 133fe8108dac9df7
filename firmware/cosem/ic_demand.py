"""Class 5 Demand register (Blue Book 4.3.4): the sliding average of total import power 1.0.1.4.0.255, in W."""
from firmware import clock
from firmware.cosem import dst, model, regfmt
from firmware.cosem.ic_clock import settings as clock_settings
from firmware.dlms import axdr


def _time(w, m, t):
    if t is None:
        w.octet_string(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x80\x00\xff")  # not specified
    else:
        dst.encode_now(w, t, clock_settings(m.dev.config), 0)


def _avg(w, v):
    if v is None:
        w.null()
    else:
        w.double_long(min(max(v, -0x80000000), 0x7FFFFFFF))


def get(m, sess, i, attr, selector, params, w):
    d = m.dev.demand
    if attr == 2:
        return model.one(_avg, w, d.current_average)
    if attr == 3:
        return model.one(_avg, w, d.last_average)
    if attr == 4:
        fmt = regfmt.register_format(b"\x01\x00\x01\x04\x00\xff")
        return model.one(_scaler_unit, w, fmt[1], fmt[2])
    if attr == 5:
        return model.one(w.unsigned, 0)
    if attr == 6:
        return model.one(_time, w, m, d.capture_time)
    if attr == 7:
        return model.one(_time, w, m, d.start_current)
    if attr == 8:
        return model.one(w.double_long_unsigned, d.period)
    return model.one(w.long_unsigned, d.periods)


def _scaler_unit(w, scaler, unit):
    w.structure(2)
    w.integer(scaler)
    w.enum(unit)


def set(m, sess, i, attr, value):
    r = axdr.Reader(value)
    try:
        if attr == 8:
            v = r.value(axdr.DOUBLE_LONG_UNSIGNED)
            if not m.dev.set_demand_period(v):
                return model.TYPE_UNMATCHED
            return model.SUCCESS
        if attr == 9:
            v = r.value(axdr.LONG_UNSIGNED)
            if not 1 <= v <= 15:
                return model.TYPE_UNMATCHED
            m.dev.config.update({"DEM_N": v})
            m.dev.demand.reset()
            return model.SUCCESS
    except (axdr.AxdrError, ValueError):
        return model.TYPE_UNMATCHED
    return model.READ_WRITE_DENIED


def action(m, sess, i, method, params, w):
    if method == 1:
        m.dev.demand.reset()
    else:
        m.dev.demand.next_period(clock.now())
    return model.SUCCESS, False
