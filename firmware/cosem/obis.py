"""OBIS codes (IEC 62056-6-1): six value groups A.B.C.D.E.F, as 6 bytes on the wire and dotted in text."""


def parse(text):
    """'1.0.1.8.0.255' -> b'\\x01\\x00\\x01\\x08\\x00\\xff' (ValueError unless six values 0..255)."""
    parts = text.split(".")
    if len(parts) != 6:
        raise ValueError("OBIS needs six groups: %r" % text)
    out = bytearray(6)
    for i, p in enumerate(parts):
        if not p.isdigit() or int(p) > 255:
            raise ValueError("bad OBIS group %r in %r" % (p, text))
        out[i] = int(p)
    return bytes(out)


def fmt(b):
    return "%d.%d.%d.%d.%d.%d" % (b[0], b[1], b[2], b[3], b[4], b[5])
