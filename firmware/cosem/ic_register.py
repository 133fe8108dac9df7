"""Class 3 Register (Blue Book 4.3.2): the meter's energies and instantaneous values with their scaler_unit."""
from firmware.cosem import model, objects, regfmt
from firmware.dlms import axdr


def get(m, sess, i, attr, selector, params, w):
    fmt = regfmt.register_format(objects.logical_name(i))
    if fmt is None:
        return model.OBJECT_UNAVAILABLE
    if attr == 3:
        return model.one(_scaler_unit, w, fmt[1], fmt[2])
    v = m.dev.meter.register(i)
    if v is None:
        return model.TEMPORARY_FAILURE  # not read from the meter yet
    return model.one(_value, w, fmt[0], v)


def _scaler_unit(w, scaler, unit):
    w.structure(2)
    w.integer(scaler)
    w.enum(unit)


def _value(w, tag, v):
    # Saturate rather than wrap: a register past its range is a meter
    # problem to see, not a small number to believe.
    if tag == axdr.DOUBLE_LONG_UNSIGNED:
        w.double_long_unsigned(min(max(v, 0), 0xFFFFFFFF))
    elif tag == axdr.DOUBLE_LONG:
        w.double_long(min(max(v, -0x80000000), 0x7FFFFFFF))
    elif tag == axdr.LONG_UNSIGNED:
        w.long_unsigned(min(max(v, 0), 0xFFFF))
    else:
        w.long(min(max(v, -0x8000), 0x7FFF))


def set(m, sess, i, attr, value):
    return model.READ_WRITE_DENIED
