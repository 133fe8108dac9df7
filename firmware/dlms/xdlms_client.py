"""xDLMS GET/SET/ACTION with LN referencing, client side: request encoders, response parser (IEC 62056-5-3 / Green Book COSEM APDU ASN.1, A-XDR)."""
from firmware.dlms.axdr import AxdrError, Reader
from firmware.dlms.xdlms import (
    ACTION_REQUEST,
    ACTION_RESPONSE,
    EXCEPTION_RESPONSE,
    GET_REQUEST,
    GET_RESPONSE,
    INVOCATION_COUNTER_ERROR,
    SET_REQUEST,
    SET_RESPONSE,
    XdlmsError,
    _lensize,
    _octets,
    _room,
)

# The device is a client too (its own meter, the RS-485 bus). Encoders write
# headers, the caller writes the Data after them, as on the server side.
# parse_response has the same contract as parse_request: it fills one reusable
# Response, spans index the input, every Data is checked with Reader.skip().


def _descriptor(w, class_id, obis, index):
    if len(obis) != 6:
        raise ValueError("obis")
    w.u16(class_id)
    w.raw(obis)
    w.i8(index)


def _selection(w, selector):
    if selector:
        w.u8(1)
        w.u8(selector)
    else:
        w.u8(0)


def get_request_normal(w, invoke, class_id, obis, attribute_id, selector=0):
    """C0 01 invoke descriptor and selection; with a selector the caller writes the access-parameters Data next."""
    _room(w, 14 if selector else 13)
    w.u8(GET_REQUEST)
    w.u8(1)
    w.u8(invoke)
    attribute_descriptor(w, class_id, obis, attribute_id, selector)


def get_request_next(w, invoke, block_no):
    _room(w, 7)
    w.u8(GET_REQUEST)
    w.u8(2)
    w.u8(invoke)
    w.u32(block_no)


def get_request_with_list_header(w, invoke, n):
    """C0 03 invoke count: the caller writes n items with attribute_descriptor (and their access Data)."""
    _room(w, 3 + _lensize(n))
    w.u8(GET_REQUEST)
    w.u8(3)
    w.u8(invoke)
    w.length(n)


def attribute_descriptor(w, class_id, obis, attribute_id, selector=0):
    """Cosem-Attribute-Descriptor-With-Selection; with a selector the caller writes the access-parameters Data next."""
    _room(w, 11 if selector else 10)
    _descriptor(w, class_id, obis, attribute_id)
    _selection(w, selector)


def set_request_normal(w, invoke, class_id, obis, attribute_id, selector=0):
    """C1 01 invoke descriptor and selection: the caller writes the access Data (if selector), then the value."""
    _room(w, 14 if selector else 13)
    w.u8(SET_REQUEST)
    w.u8(1)
    w.u8(invoke)
    attribute_descriptor(w, class_id, obis, attribute_id, selector)


def action_request_normal(w, invoke, class_id, obis, method_id, params=False):
    """C3 01 invoke method descriptor and usage flag; params=True: the caller writes the parameters Data next."""
    _room(w, 13)
    w.u8(ACTION_REQUEST)
    w.u8(1)
    w.u8(invoke)
    _descriptor(w, class_id, obis, method_id)
    w.u8(1 if params else 0)


class Result:
    """One item of a with-list response, refilled by Response.results()."""

    def __init__(self):
        self.result = 0
        self.value = None
        self.value_result = None


class Response:
    """One parsed GET/SET/ACTION response or exception-response; parse_response refills it."""

    def __init__(self):
        self._r = Reader(b"")
        self._item = Result()
        self._clear()

    def _clear(self):
        self.service = 0
        self.choice = 0
        self.invoke_id_and_priority = 0
        self.result = 0  # data-access-result / action-result (0 with data)
        self.value = None  # span of the Data: GET value, ACTION return parameters
        self.value_result = None  # ACTION return parameters given as a data-access-result
        self.last_block = False
        self.block_number = 0
        self.raw = None
        self.count = 0
        self.state_error = 0
        self.service_error = 0
        self.invocation_counter = None
        self._list = 0

    def results(self, mv):
        """Walk a with-list response: yields one reused Result (result, value, value_result) per item."""
        r = self._r
        r.buf = mv if isinstance(mv, memoryview) else memoryview(mv)
        r.end = len(r.buf)
        r.pos = self._list
        o = self._item
        try:
            for _ in range(self.count):
                _item(r, o, self.service)
                yield o
        except AxdrError:
            raise XdlmsError("malformed")


def _get_data_result(r, o):
    # Get-Data-Result: [0] Data or [1] Data-Access-Result
    c = r.u8()
    if c == 0:
        o.value = r.skip()
    elif c == 1:
        o.result = r.u8()
    else:
        raise XdlmsError("get-data-result")


def _item(r, o, service):
    o.result = 0
    o.value = None
    o.value_result = None
    if service == GET_RESPONSE:
        _get_data_result(r, o)
    elif service == SET_RESPONSE:
        o.result = r.u8()
    else:
        # Action-Response-With-Optional-Data: result, then OPTIONAL Get-Data-Result
        o.result = r.u8()
        c = r.u8()
        if c > 1:
            raise XdlmsError("usage flag")
        if c:
            k = r.u8()
            if k == 0:
                o.value = r.skip()
            elif k == 1:
                o.value_result = r.u8()
            else:
                raise XdlmsError("get-data-result")


def parse_response(mv, resp):
    """Parse one GET/SET/ACTION response or exception-response into resp; any defect is an XdlmsError."""
    r = resp._r
    r.buf = mv if isinstance(mv, memoryview) else memoryview(mv)
    r.pos = 0
    r.end = len(r.buf)
    resp._clear()
    try:
        _parse(r, resp)
    except AxdrError:
        raise XdlmsError("malformed")
    if r.pos != r.end:
        raise XdlmsError("trailing octets")
    return resp


def _parse(r, q):
    tag = r.u8()
    q.service = tag
    if tag == EXCEPTION_RESPONSE:
        q.state_error = r.u8()
        e = r.u8()
        if e < 1 or e > INVOCATION_COUNTER_ERROR:
            raise XdlmsError("service-error")
        q.service_error = e
        if e == INVOCATION_COUNTER_ERROR:
            q.invocation_counter = r.u32()
        return
    c = r.u8()
    q.choice = c
    q.invoke_id_and_priority = r.u8()
    if tag == GET_RESPONSE:
        if c == 1:
            _get_data_result(r, q)
        elif c == 2:
            # DataBlock-G: raw-data [0] or data-access-result [1]
            q.last_block = r.u8() != 0
            q.block_number = r.u32()
            k = r.u8()
            if k == 0:
                q.raw = _octets(r)
            elif k == 1:
                q.result = r.u8()
            else:
                raise XdlmsError("datablock-g")
        elif c == 3:
            _list(r, q, 2)
        else:
            raise XdlmsError("choice")
    elif tag == SET_RESPONSE:
        if c == 1:
            q.result = r.u8()
        elif c == 2:
            q.block_number = r.u32()
        elif c == 3:
            q.result = r.u8()
            q.block_number = r.u32()
        elif c == 4 or c == 5:
            _list(r, q, 1)
            if c == 4:
                q.block_number = r.u32()
        else:
            raise XdlmsError("choice")
    elif tag == ACTION_RESPONSE:
        if c == 1:
            _item(r, q, tag)
        elif c == 2:
            q.last_block = r.u8() != 0
            q.block_number = r.u32()
            q.raw = _octets(r)
        elif c == 3:
            _list(r, q, 2)
        elif c == 4:
            q.block_number = r.u32()
        else:
            raise XdlmsError("choice")
    else:
        raise XdlmsError("not a GET/SET/ACTION response")


def _list(r, q, least):
    # least: octets of the smallest item, to refuse a count past the end before walking it
    n = r.length()
    if n * least > r.end - r.pos:
        raise XdlmsError("count")
    q.count = n
    q._list = r.pos
    o = q._item
    for _ in range(n):
        _item(r, o, q.service)
