"""Class 15 Association LN version 1 and class 17 SAP assignment (Blue Book 4.4.4, 4.4.5)."""
# Four association objects (manual 4.1): 0.0.40.0.0.255 is the association
# in use; .1 the Public Reader (client 0x10, no authentication), .2 the Meter
# Reader (0x20, LOW), .3 the utility setting client (0x01, LOW with its own
# secret). Each lists every object with the access rights of its client.
from firmware.cosem import model, objects
from firmware.dlms import axdr

CLIENTS = (None, objects.PUBLIC, objects.READER, objects.UTILITY)  # by OBIS E group
MECHANISM = {objects.PUBLIC: 0, objects.READER: 1, objects.UTILITY: 1}  # NONE, LOW
SECRET_KEY = {objects.READER: "PWD", objects.UTILITY: "USEC"}  # settings that hold the LOW secrets
_SAP_SERVER = 1  # the management logical device
_LDN_OBIS = b"\x00\x00\x2a\x00\x00\xff"


def _client_of(sess, i):
    e = objects.logical_name(i)[4]
    if e == 0 or e >= len(CLIENTS):
        return sess.client
    return CLIENTS[e]


def get(m, sess, i, attr, selector, params, w):
    if objects.class_id(i) == 17:
        return _sap_list(m.dev, w)
    c = _client_of(sess, i)
    current = c == sess.client
    if attr == 2:
        return _object_list(c, w)
    if attr == 3:
        return model.one(_partners, w, c)
    if attr == 4:
        return model.one(_oid, w, 1, 1)  # application context: LN referencing, no ciphering
    if attr == 5:
        return model.one(_xdlms_context, w, sess, current)
    if attr == 6:
        return model.one(_oid, w, 2, MECHANISM.get(c, 0))
    if attr == 8:
        return model.one(w.enum, 2 if current and sess.associated else 0)
    if attr == 9:
        return model.one(w.octet_string, b"\x00" * 6)  # no security setup object yet
    return model.READ_WRITE_DENIED  # 7, the secret, is never read


def _partners(w, c):
    w.structure(2)
    w.integer(c)
    w.long_unsigned(_SAP_SERVER)


def _oid(w, kind, last):
    # {joint-iso-ccitt(2) country(16) country-name(756) identified-organization(5)
    #  DLMS-UA(8) application-context(1) | authentication-mechanism-name(2), id}
    w.structure(7)
    w.unsigned(2)
    w.unsigned(16)
    w.long_unsigned(756)
    w.unsigned(5)
    w.unsigned(8)
    w.unsigned(kind)
    w.unsigned(last)


def _xdlms_context(w, sess, current):
    conf = sess.conformance if current else sess.server_conformance
    w.structure(6)
    w.bit_string(24, bytes(((conf >> 16) & 0xFF, (conf >> 8) & 0xFF, conf & 0xFF)))
    w.long_unsigned(sess.server_max_pdu)
    w.long_unsigned(sess.client_max_pdu if current else sess.server_max_pdu)
    w.unsigned(6)
    w.integer(0)
    w.octet_string(b"")


def _object_list(client, w):
    n = objects.COUNT
    w.array(n)
    yield
    for i in range(n):
        cid = objects.class_id(i)
        ver, na, nm, cw, cm = objects.CLASSES[cid]
        r, wr, mt = objects.access(i, client)
        w.structure(4)
        w.long_unsigned(cid)
        w.unsigned(ver)
        w.octet_string(objects.logical_name(i))
        w.structure(2)
        w.array(na)
        for a in range(1, na + 1):
            w.structure(3)
            w.integer(a)
            w.enum(((r >> a) & 1) | (((wr >> a) & 1) << 1))  # 0 none, 1 read, 2 write, 3 both
            sels = objects.SELECTIVE.get((cid, a))
            if sels and (r >> a) & 1:
                w.array(len(sels))
                for s in sels:
                    w.integer(s)
            else:
                w.null()
        w.array(nm)
        for k in range(1, nm + 1):
            w.structure(2)
            w.integer(k)
            w.enum((mt >> k) & 1)  # 0 no access, 1 access
        yield


def _sap_list(dev, w):
    from firmware.cosem.ic_data import logical_device_name

    w.array(1)
    w.structure(2)
    w.long_unsigned(_SAP_SERVER)
    w.octet_string(logical_device_name(dev))
    yield


def valid_secret(b):
    """A LOW secret is also the SMS password (manual 4.2): 1..32 visible ASCII characters, no space."""
    if not 1 <= len(b) <= 32:
        return False
    for x in b:
        if x < 0x21 or x > 0x7E:
            return False
    return True


def set(m, sess, i, attr, value):
    if objects.class_id(i) != 15 or attr != 7:
        return model.READ_WRITE_DENIED
    c = _client_of(sess, i)
    key = SECRET_KEY.get(c)
    if key is None:
        return model.READ_WRITE_DENIED  # the public association has no secret
    r = axdr.Reader(value)
    try:
        if r.tag() != axdr.OCTET_STRING:
            return model.TYPE_UNMATCHED
        n = r.length()
        if n > r.remaining():
            return model.TYPE_UNMATCHED
        secret = bytes(r.raw(n))
    except axdr.AxdrError:
        return model.TYPE_UNMATCHED
    if not valid_secret(secret):
        return model.TYPE_UNMATCHED
    m.dev.config.update({key: secret.decode()})
    m.dev.event("secret-changed", c)
    return model.SUCCESS
