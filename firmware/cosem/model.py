"""The COSEM object model behind the xDLMS services: lookup, access rights and dispatch to interface classes."""
# The server asks: does this object exist with this class (object-undefined,
# object-class-inconsistent), may this client touch this attribute or method
# (read-write-denied), does the attribute take this selective access
# (scope-of-access-violated)? Then the class code serves the value. A GET
# returns a generator that writes the value into a small Writer piece by
# piece, so the server can stream a long attribute (an object list, a
# profile) block by block without ever holding it whole.
from firmware.cosem import objects

# Data-Access-Result and Action-Result share these numbers (IEC 62056-5-3);
# the xDLMS codec defines them, the classes use them from here.
from firmware.dlms.xdlms import (  # noqa: E402,F401
    DATA_BLOCK_NUMBER_INVALID,
    DATA_BLOCK_UNAVAILABLE,
    HARDWARE_FAULT,
    LONG_GET_ABORTED,
    LONG_SET_ABORTED,
    NO_LONG_GET_IN_PROGRESS,
    NO_LONG_SET_IN_PROGRESS,
    OBJECT_CLASS_INCONSISTENT,
    OBJECT_UNAVAILABLE,
    OBJECT_UNDEFINED,
    OTHER_REASON,
    READ_WRITE_DENIED,
    SCOPE_OF_ACCESS_VIOLATED,
    SUCCESS,
    TEMPORARY_FAILURE,
    TYPE_UNMATCHED,
)


# Which module serves which kind of object (objects.txt's kind column); a
# kind not listed here is served by firmware/cosem/ic_<kind>.py. Modules are
# imported on first use: a device that never serves a class never loads it.
_MODULES = {
    "ldn": "ic_data",
    "fw": "ic_data",
    "serial": "ic_data",
    "regno": "ic_data",
    "hwconf": "ic_data",
    "meter": "ic_data",
    "period": "ic_data",
    "evcode": "ic_data",
    "mstat": "ic_data",
    "merror": "ic_data",
    "reg": "ic_register",
    "sap": "ic_assoc",
}


def _handler_module(kind):
    name = "ic_" + kind if kind not in _MODULES else _MODULES[kind]
    mod = __import__("firmware.cosem." + name)
    return getattr(mod.cosem, name)


class Model:
    def __init__(self, dev):
        self.dev = dev  # the device's services: meter values, settings, factory data, clock
        self._h = None

    def handler(self, i):
        kind = objects.kind(i)
        if kind == "-":
            return None
        if self._h is None:
            self._h = {}
        h = self._h.get(kind)
        if h is None:
            h = self._h[kind] = _handler_module(kind)
        return h

    def lookup(self, class_id, ln):
        """(index, 0) or (-1, data-access-result)."""
        i = objects.find(ln)
        if i < 0:
            return -1, OBJECT_UNDEFINED
        if objects.class_id(i) != class_id:
            return -1, OBJECT_CLASS_INCONSISTENT
        return i, SUCCESS

    def _attr_ok(self, i, attr, sess, want):
        cid = objects.class_id(i)
        na = objects.CLASSES[cid][1]
        if attr < 1 or attr > na:
            return OBJECT_UNDEFINED
        r, w, m = objects.access(i, sess.client)
        if not ((r if want == 0 else w) >> attr) & 1:
            return READ_WRITE_DENIED
        return SUCCESS

    def get(self, sess, i, attr, selector, params, w):
        """A generator writing the attribute's Data into w, or a data-access-result int."""
        dar = self._attr_ok(i, attr, sess, 0)
        if dar:
            return dar
        if selector is not None:
            sels = objects.SELECTIVE.get((objects.class_id(i), attr))
            if not sels or selector not in sels:
                return SCOPE_OF_ACCESS_VIOLATED
        if attr == 1:
            return _logical_name(objects.logical_name(i), w)
        h = self.handler(i)
        if h is None:
            return OBJECT_UNAVAILABLE  # its issue has not landed yet
        return h.get(self, sess, i, attr, selector, params, w)

    def set(self, sess, i, attr, selector, value):
        """Apply a SET of value (memoryview of one A-XDR Data); returns a data-access-result."""
        dar = self._attr_ok(i, attr, sess, 1)
        if dar:
            return dar
        if selector is not None:
            return SCOPE_OF_ACCESS_VIOLATED
        h = self.handler(i)
        if h is None:
            return OBJECT_UNAVAILABLE
        return h.set(self, sess, i, attr, value)

    def action(self, sess, i, method, params, w):
        """Invoke a method; returns (action-result, True if return parameters were written into w)."""
        cid = objects.class_id(i)
        nm = objects.CLASSES[cid][2]
        if method < 1 or method > nm:
            return OBJECT_UNDEFINED, False
        if not (objects.access(i, sess.client)[2] >> method) & 1:
            return READ_WRITE_DENIED, False
        h = self.handler(i)
        if h is None or not hasattr(h, "action"):
            return OBJECT_UNAVAILABLE, False
        return h.action(self, sess, i, method, params, w)


def _logical_name(ln, w):
    w.octet_string(ln)
    yield


def one(fn, *args):
    """A GET generator for a value a single call writes."""
    fn(*args)
    yield
