"""xDLMS GET/SET/ACTION and exception-response APDUs with LN referencing, server side (IEC 62056-5-3 / Green Book COSEM APDU ASN.1, A-XDR)."""
from firmware.compat import const
from firmware.dlms.axdr import AxdrError, BufferFull, Reader

# Requests are parsed in place: parse_request fills one reusable Request with
# numbers and (start, end) spans of the input, checking every Data element with
# Reader.skip(), so a request that parses is well formed to its last octet and
# the server never meets a malformed Data later. Responses are written as
# headers into the caller's Writer; the caller writes the Data (or, for block
# transfer, copies the raw octets) after them. A header writer checks its room
# first, so BufferFull leaves w.pos where it was.

# COSEMpdu tags (APDU choice numbers)
GET_REQUEST = const(0xC0)
SET_REQUEST = const(0xC1)
EVENT_NOTIFICATION_REQUEST = const(0xC2)
ACTION_REQUEST = const(0xC3)
GET_RESPONSE = const(0xC4)
SET_RESPONSE = const(0xC5)
ACTION_RESPONSE = const(0xC7)
GLO_GET_REQUEST = const(0xC8)
GLO_SET_REQUEST = const(0xC9)
GLO_EVENT_NOTIFICATION_REQUEST = const(0xCA)
GLO_ACTION_REQUEST = const(0xCB)
GLO_GET_RESPONSE = const(0xCC)
GLO_SET_RESPONSE = const(0xCD)
GLO_ACTION_RESPONSE = const(0xCF)
DED_GET_REQUEST = const(0xD0)
DED_SET_REQUEST = const(0xD1)
DED_EVENT_NOTIFICATION_REQUEST = const(0xD2)
DED_ACTION_REQUEST = const(0xD3)
DED_GET_RESPONSE = const(0xD4)
DED_SET_RESPONSE = const(0xD5)
DED_ACTION_RESPONSE = const(0xD7)
EXCEPTION_RESPONSE = const(0xD8)
ACCESS_REQUEST = const(0xD9)
ACCESS_RESPONSE = const(0xDA)
GENERAL_GLO_CIPHERING = const(0xDB)
GENERAL_DED_CIPHERING = const(0xDC)
GENERAL_CIPHERING = const(0xDD)
GENERAL_SIGNING = const(0xDF)
GENERAL_BLOCK_TRANSFER = const(0xE0)
DATA_NOTIFICATION = const(0x0F)
# SN referencing, which an LN association does not serve
READ_REQUEST = const(0x05)
WRITE_REQUEST = const(0x06)
UNCONFIRMED_WRITE_REQUEST = const(0x16)

# Get-Request / Get-Response choices
GET_NORMAL = const(1)
GET_NEXT = const(2)
GET_WITH_LIST = const(3)
GET_WITH_DATABLOCK = const(2)  # the response's choice 2
# Set-Request choices
SET_NORMAL = const(1)
SET_WITH_FIRST_DATABLOCK = const(2)
SET_WITH_DATABLOCK = const(3)
SET_WITH_LIST = const(4)
SET_WITH_LIST_AND_FIRST_DATABLOCK = const(5)
# Set-Response choices
SET_RESPONSE_NORMAL = const(1)
SET_RESPONSE_DATABLOCK = const(2)
SET_RESPONSE_LAST_DATABLOCK = const(3)
SET_RESPONSE_LAST_DATABLOCK_WITH_LIST = const(4)
SET_RESPONSE_WITH_LIST = const(5)
# Action-Request choices
ACTION_NORMAL = const(1)
ACTION_NEXT_PBLOCK = const(2)
ACTION_WITH_LIST = const(3)
ACTION_WITH_FIRST_PBLOCK = const(4)
ACTION_WITH_LIST_AND_FIRST_PBLOCK = const(5)
ACTION_WITH_PBLOCK = const(6)
# Action-Response choices
ACTION_RESPONSE_NORMAL = const(1)
ACTION_RESPONSE_WITH_PBLOCK = const(2)
ACTION_RESPONSE_WITH_LIST = const(3)
ACTION_RESPONSE_NEXT_PBLOCK = const(4)

# Data-Access-Result; Action-Result numbers the same, 15/16 renamed below
SUCCESS = const(0)
HARDWARE_FAULT = const(1)
TEMPORARY_FAILURE = const(2)
READ_WRITE_DENIED = const(3)
OBJECT_UNDEFINED = const(4)
OBJECT_CLASS_INCONSISTENT = const(9)
OBJECT_UNAVAILABLE = const(11)
TYPE_UNMATCHED = const(12)
SCOPE_OF_ACCESS_VIOLATED = const(13)
DATA_BLOCK_UNAVAILABLE = const(14)
LONG_GET_ABORTED = const(15)
NO_LONG_GET_IN_PROGRESS = const(16)
LONG_SET_ABORTED = const(17)
NO_LONG_SET_IN_PROGRESS = const(18)
DATA_BLOCK_NUMBER_INVALID = const(19)
OTHER_REASON = const(250)
LONG_ACTION_ABORTED = const(15)
NO_LONG_ACTION_IN_PROGRESS = const(16)

# Exception-Response state-error
SERVICE_NOT_ALLOWED = const(1)
SERVICE_UNKNOWN = const(2)
# Exception-Response service-error (a CHOICE: only 6 carries a value, a u32)
OPERATION_NOT_POSSIBLE = const(1)
SERVICE_NOT_SUPPORTED = const(2)
SERVICE_OTHER_REASON = const(3)
PDU_TOO_LONG = const(4)
DECIPHERING_ERROR = const(5)
INVOCATION_COUNTER_ERROR = const(6)

# Smallest encodings, to refuse a list count larger than the octets left
# before walking it: class-id 2, instance-id 6, id 1 (+ selection flag 1).
_ATTR_MIN = const(10)
_METHOD_MIN = const(9)


class XdlmsError(ValueError):
    pass


def _lensize(n):
    return 1 if n < 0x80 else 2 if n < 0x100 else 3 if n < 0x10000 else 5


def _room(w, n):
    if w.pos + n > w.end:
        raise BufferFull()


def _flag(r):
    # A-XDR OPTIONAL usage flag: FALSE 00 absent, TRUE 01 present
    v = r.u8()
    if v > 1:
        raise XdlmsError("usage flag")
    return v


def _i8(v):
    return v - 256 if v > 127 else v


def _descriptor(r, o, method):
    """Cosem-Attribute-Descriptor[-With-Selection] or Cosem-Method-Descriptor at r.pos into o."""
    o.class_id = r.u16()
    o.obis = r.raw(6)
    o.selector = 0
    o.access = None
    if method:
        o.attribute_id = 0
        o.method_id = _i8(r.u8())
    else:
        o.method_id = 0
        o.attribute_id = _i8(r.u8())
        if _flag(r):
            o.selector = r.u8()
            o.access = r.skip()


def _octets(r):
    # an OCTET STRING's span, checked without slicing the input
    n = r.length()
    p = r.pos
    if n > r.end - p:
        raise XdlmsError("truncated")
    r.pos = p + n
    return p, p + n


class Item:
    """One descriptor of a with-list request, refilled by Request.items()."""

    def __init__(self):
        self.class_id = 0
        self.obis = None
        self.attribute_id = 0
        self.method_id = 0
        self.selector = 0
        self.access = None
        self.value = None


class Request:
    """One parsed GET/SET/ACTION request; parse_request refills it, spans index the input."""

    def __init__(self):
        self._r = Reader(b"")
        self._item = Item()
        self._clear()

    def _clear(self):
        self.service = 0
        self.choice = 0
        self.invoke_id_and_priority = 0
        self.class_id = 0
        self.obis = None
        self.attribute_id = 0
        self.method_id = 0
        self.selector = 0
        self.access = None
        self.value = None
        self.last_block = False
        self.block_number = 0
        self.raw = None
        self.count = 0
        self._list = 0
        self._values = 0

    def items(self, mv):
        """Walk a with-list request's items: yields one reused Item per descriptor, value set for SET/ACTION with-list."""
        r = self._r
        r.buf = mv if isinstance(mv, memoryview) else memoryview(mv)
        r.end = len(r.buf)
        o = self._item
        method = self.service == ACTION_REQUEST
        d = self._list
        v = self._values
        try:
            for _ in range(self.count):
                r.pos = d
                _descriptor(r, o, method)
                d = r.pos
                o.value = None
                if v:
                    r.pos = v
                    o.value = r.skip()
                    v = r.pos
                yield o
        except AxdrError:
            raise XdlmsError("malformed")


def parse_request(mv, req):
    """Parse one GET/SET/ACTION request APDU into req; any defect is an XdlmsError."""
    r = req._r
    r.buf = mv if isinstance(mv, memoryview) else memoryview(mv)
    r.pos = 0
    r.end = len(r.buf)
    req._clear()
    try:
        _parse(r, req)
    except AxdrError:
        raise XdlmsError("malformed")
    if r.pos != r.end:
        raise XdlmsError("trailing octets")
    return req


def _parse(r, q):
    tag = r.u8()
    c = r.u8()
    q.service = tag
    q.choice = c
    q.invoke_id_and_priority = r.u8()
    if tag == GET_REQUEST:
        if c == GET_NORMAL:
            _descriptor(r, q, False)
        elif c == GET_NEXT:
            q.block_number = r.u32()
        elif c == GET_WITH_LIST:
            _list(r, q, False)
        else:
            raise XdlmsError("choice")
    elif tag == SET_REQUEST:
        if c == SET_NORMAL or c == SET_WITH_FIRST_DATABLOCK:
            _descriptor(r, q, False)
        elif c == SET_WITH_LIST or c == SET_WITH_LIST_AND_FIRST_DATABLOCK:
            _list(r, q, False)
        elif c != SET_WITH_DATABLOCK:
            raise XdlmsError("choice")
        if c == SET_NORMAL:
            q.value = r.skip()
        elif c == SET_WITH_LIST:
            _values(r, q)
        else:
            _block(r, q)
    elif tag == ACTION_REQUEST:
        if c == ACTION_NORMAL:
            _descriptor(r, q, True)
            if _flag(r):
                q.value = r.skip()
        elif c == ACTION_NEXT_PBLOCK:
            q.block_number = r.u32()
        elif c == ACTION_WITH_LIST:
            _list(r, q, True)
            _values(r, q)
        elif c == ACTION_WITH_FIRST_PBLOCK:
            _descriptor(r, q, True)
            _block(r, q)
        elif c == ACTION_WITH_LIST_AND_FIRST_PBLOCK:
            _list(r, q, True)
            _block(r, q)
        elif c == ACTION_WITH_PBLOCK:
            _block(r, q)
        else:
            raise XdlmsError("choice")
    else:
        raise XdlmsError("not a GET/SET/ACTION request")


def _list(r, q, method):
    n = r.length()
    if n * (_METHOD_MIN if method else _ATTR_MIN) > r.end - r.pos:
        raise XdlmsError("count")
    q.count = n
    q._list = r.pos
    o = q._item
    for _ in range(n):
        _descriptor(r, o, method)


def _values(r, q):
    # SEQUENCE OF Data, one per descriptor
    if r.length() != q.count:
        raise XdlmsError("value count")
    q._values = r.pos
    for _ in range(q.count):
        r.skip()


def _block(r, q):
    # DataBlock-SA: last-block BOOLEAN, block-number Unsigned32, raw-data OCTET STRING
    q.last_block = r.u8() != 0
    q.block_number = r.u32()
    q.raw = _octets(r)


# ---- response writers ----


def _head(w, tag, choice, invoke, n):
    # n: octets that follow tag, choice and invoke
    _room(w, n + 3)
    w.u8(tag)
    w.u8(choice)
    w.u8(invoke)


def get_response_normal_header(w, invoke):
    """C4 01 invoke 00 (Get-Data-Result data): the caller writes the Data next."""
    _head(w, GET_RESPONSE, GET_NORMAL, invoke, 1)
    w.u8(0)


def get_response_normal_error(w, invoke, dar):
    _head(w, GET_RESPONSE, GET_NORMAL, invoke, 2)
    w.u8(1)
    w.u8(dar)


def block_header_len(raw_len, sa=False):
    """Octets before the raw data in a GET data block (DataBlock-G); sa: DataBlock-SA, one less (no result choice)."""
    return (8 if sa else 9) + _lensize(raw_len)


def block_room(pdu_size, sa=False):
    """The most raw octets that fit, with their header, in pdu_size octets (0 if none)."""
    n = pdu_size - block_header_len(0, sa)
    while n > 0 and n + block_header_len(n, sa) > pdu_size:
        n -= 1
    return n if n > 0 else 0


def get_response_block(w, invoke, last, block_no, raw_len):
    """C4 02 invoke last block-number 00 length: the caller copies raw_len raw octets next."""
    _head(w, GET_RESPONSE, GET_WITH_DATABLOCK, invoke, block_header_len(raw_len) - 3)
    w.u8(1 if last else 0)
    w.u32(block_no)
    w.u8(0)
    w.length(raw_len)


def get_response_block_error(w, invoke, block_no, dar, last=True):
    """DataBlock-G carrying a data-access-result (e.g. long-get-aborted) instead of raw data."""
    _head(w, GET_RESPONSE, GET_WITH_DATABLOCK, invoke, 7)
    w.u8(1 if last else 0)
    w.u32(block_no)
    w.u8(1)
    w.u8(dar)


def get_response_with_list_header(w, invoke, n):
    """C4 03 invoke count: the caller writes n Get-Data-Results (get_data_result / get_data_result_error)."""
    _head(w, GET_RESPONSE, GET_WITH_LIST, invoke, _lensize(n))
    w.length(n)


def get_data_result(w):
    """Get-Data-Result data choice: the caller writes the Data next."""
    w.u8(0)


def get_data_result_error(w, dar):
    _room(w, 2)
    w.u8(1)
    w.u8(dar)


def set_response_normal(w, invoke, result):
    _head(w, SET_RESPONSE, SET_RESPONSE_NORMAL, invoke, 1)
    w.u8(result)


def set_response_datablock(w, invoke, block_no):
    _head(w, SET_RESPONSE, SET_RESPONSE_DATABLOCK, invoke, 4)
    w.u32(block_no)


def set_response_last_datablock(w, invoke, result, block_no):
    _head(w, SET_RESPONSE, SET_RESPONSE_LAST_DATABLOCK, invoke, 5)
    w.u8(result)
    w.u32(block_no)


def _results(w, results):
    w.length(len(results))
    for x in results:
        w.u8(x)


def set_response_with_list(w, invoke, results):
    """results: one Data-Access-Result per item, any sequence of ints."""
    n = len(results)
    _head(w, SET_RESPONSE, SET_RESPONSE_WITH_LIST, invoke, _lensize(n) + n)
    _results(w, results)


def set_response_last_datablock_with_list(w, invoke, results, block_no):
    n = len(results)
    _head(w, SET_RESPONSE, SET_RESPONSE_LAST_DATABLOCK_WITH_LIST, invoke, _lensize(n) + n + 4)
    _results(w, results)
    w.u32(block_no)


def action_response_normal(w, invoke, result, data=False):
    """C7 01 invoke result, no return parameters; data=True: the caller writes the return-parameters Data next."""
    _head(w, ACTION_RESPONSE, ACTION_RESPONSE_NORMAL, invoke, 3 if data else 2)
    action_result(w, result, data)


def action_response_with_list_header(w, invoke, n):
    """C7 03 invoke count: the caller writes n items with action_result / action_result_error."""
    _head(w, ACTION_RESPONSE, ACTION_RESPONSE_WITH_LIST, invoke, _lensize(n))
    w.length(n)


def action_result(w, result, data=False):
    """Action-Response-With-Optional-Data; data=True: the caller writes the return Data next."""
    _room(w, 3 if data else 2)
    w.u8(result)
    if data:
        w.u8(1)
        w.u8(0)
    else:
        w.u8(0)


def action_result_error(w, result, dar):
    """Action-Response-With-Optional-Data whose return parameters are a data-access-result."""
    _room(w, 4)
    w.u8(result)
    w.u8(1)
    w.u8(1)
    w.u8(dar)


def action_response_with_pblock(w, invoke, last, block_no, raw_len):
    """C7 02 invoke DataBlock-SA header: the caller copies raw_len octets of the return parameters next."""
    _head(w, ACTION_RESPONSE, ACTION_RESPONSE_WITH_PBLOCK, invoke, block_header_len(raw_len, True) - 3)
    w.u8(1 if last else 0)
    w.u32(block_no)
    w.length(raw_len)


def action_response_next_pblock(w, invoke, block_no):
    _head(w, ACTION_RESPONSE, ACTION_RESPONSE_NEXT_PBLOCK, invoke, 4)
    w.u32(block_no)


def exception_response(w, state_error, service_error, invocation_counter=None):
    """D8 state-error service-error, and the u32 expected counter after invocation-counter-error."""
    ic = service_error == INVOCATION_COUNTER_ERROR
    if ic and invocation_counter is None:
        raise ValueError("invocation counter")
    _room(w, 7 if ic else 3)
    w.u8(EXCEPTION_RESPONSE)
    w.u8(state_error)
    w.u8(service_error)
    if ic:
        w.u32(invocation_counter)
