"""Class 1 Data (Blue Book 4.3.1): identification of the module and the meter, and the meter's status values."""
from firmware.cosem import model, objects
from firmware.dlms import axdr

_LDN = b"\x00\x00\x2a\x00\x00\xff"
# Meter values that are numbers, with their type; every other meter text is
# an octet-string of its ASCII characters.
_NUMERIC = {
    b"\x00\x00\x60\x0e\x00\xff": (axdr.UNSIGNED, 10),  # active rate
    b"\x00\x00\x60\x07\x00\xff": (axdr.LONG_UNSIGNED, 10),  # power failures, all phases
    b"\x00\x00\x60\x07\x01\xff": (axdr.LONG_UNSIGNED, 10),
    b"\x00\x00\x60\x07\x02\xff": (axdr.LONG_UNSIGNED, 10),
    b"\x00\x00\x60\x07\x03\xff": (axdr.LONG_UNSIGNED, 10),
    b"\x01\x00\x60\x05\x00\xff": (axdr.DOUBLE_LONG_UNSIGNED, 16),  # meter status word (hex in the readout)
    b"\x00\x00\x61\x61\x00\xff": (axdr.DOUBLE_LONG_UNSIGNED, 16),  # error register (F.F, hex)
}
_MAX_REGNO = 32
# Periods in seconds, as the profiles and the demand register use them.
PERIOD_OBJECTS = {
    b"\x01\x00\x00\x08\x00\xff": "DEM_PERIOD",  # demand integration period (class 5 attribute 8)
    b"\x01\x00\x00\x08\x04\xff": "P1_PERIOD",  # profile 1 capture period (class 7 attribute 4)
    b"\x01\x00\x00\x08\x05\xff": "P2_PERIOD",  # profile 2 capture period
}


def logical_device_name(dev):
    """16 octets: the manufacturer's three-letter FLAG id, then the serial number (Green Book 4.1.8.2)."""
    f = dev.factory
    serial = f["serial"][-13:]
    return (f["flag"] + "0" * (13 - len(serial)) + serial).encode()


def _value(dev, i):
    k = objects.kind(i)
    ln = bytes(objects.logical_name(i))
    if k == "ldn":
        return axdr.OCTET_STRING, logical_device_name(dev)
    if k == "fw":
        return axdr.OCTET_STRING, dev.firmware_version.encode()
    if k == "serial":
        return axdr.OCTET_STRING, dev.factory["serial"].encode()
    if k == "hwconf":
        return axdr.OCTET_STRING, dev.factory.get("hw", "").encode()
    if k == "regno":
        return axdr.OCTET_STRING, dev.config.get("REGNO").encode()
    if k == "period":
        return axdr.DOUBLE_LONG_UNSIGNED, dev.config.get(PERIOD_OBJECTS[ln])
    if k == "evcode":
        return axdr.LONG_UNSIGNED, dev.logs.last_code[ln[4]]
    if k == "mstat":
        return axdr.DOUBLE_LONG_UNSIGNED, dev.module_status()
    if k == "merror":
        return axdr.DOUBLE_LONG_UNSIGNED, dev.module_error()
    # k == "meter": what the last readout gave
    text = dev.meter.text.get(i)
    if text is None:
        return None, None
    num = _NUMERIC.get(ln)
    if num:
        try:
            return num[0], int(text, num[1])
        except ValueError:
            return None, None
    return axdr.OCTET_STRING, text.encode()


def get(m, sess, i, attr, selector, params, w):
    tag, v = _value(m.dev, i)
    if tag is None:
        return model.TEMPORARY_FAILURE  # the meter has not been read yet
    return model.one(_write, w, tag, v)


def _write(w, tag, v):
    if tag == axdr.OCTET_STRING:
        w.octet_string(v)
    elif tag == axdr.UNSIGNED:
        w.unsigned(v & 0xFF)
    elif tag == axdr.LONG_UNSIGNED:
        w.long_unsigned(v & 0xFFFF)
    else:
        w.double_long_unsigned(v & 0xFFFFFFFF)


def _set_period(m, i, value):
    r = axdr.Reader(value)
    try:
        tag = r.tag()
        r.pos = 0
        if tag not in (axdr.DOUBLE_LONG_UNSIGNED, axdr.LONG_UNSIGNED, axdr.UNSIGNED):
            return model.TYPE_UNMATCHED
        v = r.data()[1]
    except axdr.AxdrError:
        return model.TYPE_UNMATCHED
    key = PERIOD_OBJECTS[bytes(objects.logical_name(i))]
    if key == "DEM_PERIOD":
        ok = m.dev.set_demand_period(v)
    else:
        ok = m.dev.set_capture_period(m.dev.profile_by_key(key), v)
    return model.SUCCESS if ok else model.TYPE_UNMATCHED


def set(m, sess, i, attr, value):
    if objects.kind(i) == "period":
        return _set_period(m, i, value)
    if objects.kind(i) != "regno":
        return model.READ_WRITE_DENIED
    r = axdr.Reader(value)
    try:
        tag = r.tag()
        if tag not in (axdr.OCTET_STRING, axdr.VISIBLE_STRING):
            return model.TYPE_UNMATCHED
        n = r.length()
        if n > _MAX_REGNO or n > r.remaining():
            return model.TYPE_UNMATCHED
        text = bytes(r.raw(n))
    except axdr.AxdrError:
        return model.TYPE_UNMATCHED
    for b in text:
        if b < 0x20 or b > 0x7E:
            return model.TYPE_UNMATCHED
    m.dev.config.update({"REGNO": text.decode()})
    return model.SUCCESS
