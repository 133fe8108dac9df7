"""Class 8 Clock version 0 (Blue Book 4.5.1): the device's time base, time zone and daylight saving, set by the meter reader."""
# The RTC keeps UTC; local time comes from the settings below (firmware/
# cosem/dst.py). The time reads as invalid (status bit 0) after the RTC lost
# its back-up supply and until a client sets it: a timestamp a meter cannot
# vouch for must say so.
from firmware import clock
from firmware.cosem import dst, dtime, model
from firmware.dlms import axdr

# Settings keys in the config store, by attribute.
_KEYS = {3: "TZ", 5: "DST_BEGIN", 6: "DST_END", 7: "DST_DEV", 8: "DST_EN"}
_CLOCK_BASE_CRYSTAL = 1
_MEASURING_PERIOD_S = 900  # profile 1's capture period until the profile issue makes it configurable


def settings(cfg):
    return {
        "time_zone": cfg.get("TZ"),
        "daylight_savings_begin": cfg.get("DST_BEGIN"),
        "daylight_savings_end": cfg.get("DST_END"),
        "daylight_savings_deviation": cfg.get("DST_DEV"),
        "daylight_savings_enabled": cfg.get("DST_EN"),
    }


def status(st):
    s = 0 if clock.rtc_valid() else dtime.STATUS_INVALID
    if dst.local_fields(clock.now(), st)[8]:
        s |= dtime.STATUS_DST
    return s


def get(m, sess, i, attr, selector, params, w):
    cfg = m.dev.config
    st = settings(cfg)
    if attr == 2:
        return model.one(dst.encode_now, w, clock.now(), st, status(st))
    if attr == 3:
        return model.one(w.long, cfg.get("TZ"))
    if attr == 4:
        return model.one(w.unsigned, status(st))
    if attr in (5, 6):
        return model.one(w.octet_string, bytes.fromhex(cfg.get(_KEYS[attr])))
    if attr == 7:
        return model.one(w.integer, cfg.get("DST_DEV"))
    if attr == 8:
        return model.one(w.boolean, cfg.get("DST_EN"))
    return model.one(w.enum, _CLOCK_BASE_CRYSTAL)


def _read(value, tags):
    r = axdr.Reader(value)
    tag = r.tag()
    if tag not in tags:
        raise axdr.AxdrError("type")
    if tag in (axdr.OCTET_STRING,):
        n = r.length()
        return bytes(r.raw(n))
    if tag == axdr.DATE_TIME:
        return bytes(r.raw(12))
    r.pos = 0
    return r.data()[1]


def set(m, sess, i, attr, value):
    cfg = m.dev.config
    try:
        if attr == 2:
            b = _read(value, (axdr.OCTET_STRING, axdr.DATE_TIME))
            if len(b) != 12:
                return model.TYPE_UNMATCHED
            t = dst.apply_set(b, clock.now(), settings(cfg))
            before = clock.now()
            clock.set_now(t)
            m.dev.event("clock-set", t - before)
            return model.SUCCESS
        if attr == 3:
            v = _read(value, (axdr.LONG,))
        elif attr in (5, 6):
            b = _read(value, (axdr.OCTET_STRING, axdr.DATE_TIME))
            if len(b) != 12:
                return model.TYPE_UNMATCHED
            dtime.decode_datetime(b)
            v = b.hex()
        elif attr == 7:
            v = _read(value, (axdr.INTEGER,))
        elif attr == 8:
            v = _read(value, (axdr.BOOLEAN,))
        else:
            return model.READ_WRITE_DENIED
        st = settings(cfg)
        key = _KEYS[attr]
        st[{3: "time_zone", 5: "daylight_savings_begin", 6: "daylight_savings_end", 7: "daylight_savings_deviation", 8: "daylight_savings_enabled"}[attr]] = v
        dst.check_settings(st)
        cfg.update({key: v})
        return model.SUCCESS
    except (axdr.AxdrError, dtime.DtimeError, ValueError):
        return model.TYPE_UNMATCHED


def action(m, sess, i, method, params, w):
    st = settings(m.dev.config)
    now = clock.now()
    try:
        if method == dst.SHIFT_TIME:
            t = dst.shift_time(now, _read(params, (axdr.LONG,)) if params is not None else None)
        elif method == dst.PRESET_ADJUSTING_TIME:
            r = axdr.Reader(params)
            v = r.data()
            if v[0] != axdr.STRUCTURE or len(v[1]) != 3:
                return model.TYPE_UNMATCHED, False
            times = [dst.decode_to_utc(x[1], st) for x in v[1]]
            m.dev.preset_time = dst.preset_adjusting_time(times[0], times[1], times[2])
            return model.SUCCESS, False
        elif method == dst.ADJUST_TO_PRESET_TIME:
            if getattr(m.dev, "preset_time", None) is None:
                return model.OTHER_REASON, False
            t = dst.adjust_to_preset_time(now, m.dev.preset_time)
        elif method == dst.ADJUST_TO_QUARTER:
            t = dst.adjust_to_quarter(now, st)
        elif method == dst.ADJUST_TO_MEASURING_PERIOD:
            t = dst.adjust_to_measuring_period(now, _MEASURING_PERIOD_S, st)
        else:
            t = dst.adjust_to_minute(now, st)
    except (axdr.AxdrError, dtime.DtimeError, TypeError, ValueError):
        return model.TYPE_UNMATCHED, False
    clock.set_now(t)
    m.dev.event("clock-set", t - now)
    return model.SUCCESS, False
