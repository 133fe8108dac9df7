"""xDLMS GET/SET/ACTION and exception-response codecs: spec byte vectors, interop with Gurux and dlms-cosem, fuzzing."""
import datetime
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.dlms import xdlms as x
from firmware.dlms import xdlms_client as xc
from firmware.dlms.axdr import BufferFull, Reader, Writer
from firmware.dlms.xdlms import XdlmsError

FUZZ = settings(derandomize=True, max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")), deadline=None)


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


def unwrap(b):
    """Payload of a TCP wrapper frame (version 1, source, destination, length)."""
    b = bytes(b)
    assert b[:2] == b"\x00\x01" and int.from_bytes(b[6:8], "big") == len(b) - 8
    return b[8:]


def out(fn, *args, size=1024, **kw):
    """Bytes a writer produces into a fresh buffer."""
    buf = bytearray(size)
    w = Writer(buf)
    fn(w, *args, **kw)
    return bytes(buf[: w.pos])


def req(b):
    return x.parse_request(b, x.Request())


def resp(b):
    return xc.parse_response(b, xc.Response())


def at(b, span):
    return None if span is None else bytes(b[span[0] : span[1]])


def items(q, b):
    """The with-list items as plain tuples (the generator refills one object)."""
    return [
        (i.class_id, bytes(i.obis), i.attribute_id, i.method_id, i.selector, at(b, i.access), at(b, i.value))
        for i in q.items(b)
    ]


def results(r, b):
    return [(i.result, at(b, i.value), i.value_result) for i in r.results(b)]


# ---- spec/dlms-byte-examples.md 4.2 (wrapper stripped) ----
OBJLIST_REQ = h("C0 01 C1 00 0F 00 00 28 00 00 FF 02 00")
OBJLIST_DATA = h(
    "01 05 02 04 12 00 0F 11 02 09 06 00 00 28 00 00 FF 02 02 01 00 01 00 02 04 12 00 01 11 00 09 06 00 00 2A 00"
    " 00 FF 02 02 01 00 01 00 02 04 12 00 03 11 00 09 06 01 00 01 08 00 FF 02 02 01 00 01 00 02 04 12 00 08 11 00"
    " 09 06 00 00 01 00 00 FF 02 02 01 00 01 00 02 04 12 00 07 11 01 09 06 01 00 63 01 00 FF 02 02 01 00 01 00"
)
OBJLIST_RESP = h("C4 01 C1 00") + OBJLIST_DATA
REG_REQ = h("C0 01 C1 00 03 01 00 01 08 00 FF 02 00")
REG_RESP = h("C4 01 C1 00 06 00 01 E2 40")
SCALER_REQ = h("C0 01 C1 00 03 01 00 01 08 00 FF 03 00")
SCALER_RESP = h("C4 01 C1 00 02 02 0F FF 16 1E")
LIST_REQ = h("C0 03 C1 01 00 03 01 00 01 08 00 FF 03 00")
LIST_RESP = h("C4 03 C1 01 00 02 02 0F FF 16 1E")
CLOCK_REQ = h("C0 01 C1 00 08 00 00 01 00 00 FF 02 00")
CLOCK_RESP = h("C4 01 C1 00 09 0C 07 EA 0B 19 FF 00 22 20 00 00 00 00")
ENTRY_PARAMS = h("02 04 06 00 00 00 01 06 00 00 00 02 12 00 01 12 00 00")
ENTRY_REQ = h("C0 01 C1 00 07 01 00 63 01 00 FF 02 01 02") + ENTRY_PARAMS
ENTRY_RESP = h(
    "C4 01 C1 00 01 02 02 02 09 0C 07 E8 01 01 FF 00 00 00 00 00 00 00 06 00 00 03 E8 02 02 09 0C 07 E8 01 01 FF"
    " 01 00 00 00 00 00 00 06 00 00 03 F2"
)
RANGE_HEAD = h("C0 01 C1 00 07 01 00 63 01 00 FF 02 01 01")
RANGE_PARAMS_COSEM = h(
    "02 04 02 04 12 00 08 09 06 00 00 01 00 00 FF 0F 02 12 00 00 09 0C 07 E8 01 01 FF 02 00 00 00 80 00 00"
    " 09 0C 07 E8 01 01 FF 05 00 00 00 80 00 00 01 00"
)
RANGE_PARAMS_GURUX = RANGE_PARAMS_COSEM.replace(h("00 80 00 00"), h("00 00 00 00"))
RANGE_RESP = h(
    "C4 01 C1 00 01 04 02 02 09 0C 07 E8 01 01 FF 02 00 00 00 00 00 00 06 00 00 03 FC 02 02 09 0C 07 E8 01 01 FF"
    " 03 00 00 00 00 00 00 06 00 00 04 06 02 02 09 0C 07 E8 01 01 FF 04 00 00 00 00 00 00 06 00 00 04 10 02 02 09"
    " 0C 07 E8 01 01 FF 05 00 00 00 00 00 00 06 00 00 04 1A"
)
EMPTY_RESP = h("C4 01 C1 00 01 00")
DENIED_RESP = h("C4 01 C1 01 03")
HWFAULT_RESP = h("C4 01 C1 01 01")
# the vector's first block, PDU 64: its raw data is the first 0x36 octets of the object_list Data
BLOCK1_RESP = h("C4 02 C1 00 00 00 00 01 00 36") + OBJLIST_DATA[:0x36]
NEXT_REQ = h("C0 02 C1 00 00 00 01")

# From the Gurux client in .venv (see test_gurux_*): vectors the MicroPython tests reuse.
GX_WRITE = h("C1 01 C1 00 01 00 00 60 01 00 FF 02 00 06 00 00 30 39")
GX_METHOD = h("C3 01 C1 00 46 00 00 60 03 0A FF 01 01 0F 00")
GX_READ_LIST = h("C0 03 C1 03 00 03 01 00 01 08 00 FF 02 00 00 03 01 00 01 08 00 FF 03 00 00 08 00 00 01 00 00 FF 02 00")
GX_WRITE_LIST = h("C1 04 C1 02 00 01 00 00 60 01 00 FF 02 00 00 01 00 00 60 01 01 FF 02 00 02 06 00 00 30 39 09 03 41 41 41")


def test_get_normal_vectors():
    for b, cid, obis, attr in (
        (OBJLIST_REQ, 15, "00 00 28 00 00 FF", 2),
        (REG_REQ, 3, "01 00 01 08 00 FF", 2),
        (SCALER_REQ, 3, "01 00 01 08 00 FF", 3),
        (CLOCK_REQ, 8, "00 00 01 00 00 FF", 2),
    ):
        q = req(b)
        assert (q.service, q.choice, q.invoke_id_and_priority) == (x.GET_REQUEST, x.GET_NORMAL, 0xC1)
        assert (q.class_id, bytes(q.obis), q.attribute_id) == (cid, h(obis), attr)
        assert (q.selector, q.access, q.value, q.count, q.raw) == (0, None, None, 0, None)
        assert isinstance(q.obis, memoryview)


def test_get_with_list_vector():
    q = req(LIST_REQ)
    assert (q.service, q.choice, q.count) == (x.GET_REQUEST, x.GET_WITH_LIST, 1)
    assert items(q, LIST_REQ) == [(3, h("01 00 01 08 00 FF"), 3, 0, 0, None, None)]


def test_get_by_entry_vector():
    q = req(ENTRY_REQ)
    assert (q.class_id, bytes(q.obis), q.attribute_id, q.selector) == (7, h("01 00 63 01 00 FF"), 2, 2)
    assert at(ENTRY_REQ, q.access) == ENTRY_PARAMS
    assert Reader(ENTRY_REQ, q.access[0], q.access[1]).data()[0] == 2  # a structure


@pytest.mark.parametrize("params", [RANGE_PARAMS_COSEM, RANGE_PARAMS_GURUX], ids=["dlms-cosem", "gurux"])
def test_get_by_range_vectors(params):
    b = RANGE_HEAD + params
    q = req(b)
    assert (q.class_id, q.attribute_id, q.selector, at(b, q.access)) == (7, 2, 1, params)
    assert q.access[1] == len(b)


def test_get_next_vector():
    q = req(NEXT_REQ)
    assert (q.service, q.choice, q.invoke_id_and_priority, q.block_number) == (x.GET_REQUEST, x.GET_NEXT, 0xC1, 1)
    assert q.obis is None and q.count == 0
    assert out(xc.get_request_next, 0xC1, 1) == NEXT_REQ


@pytest.mark.parametrize(
    "b",
    [OBJLIST_RESP, REG_RESP, SCALER_RESP, CLOCK_RESP, ENTRY_RESP, RANGE_RESP, EMPTY_RESP],
    ids=["objlist", "register", "scaler", "clock", "entry", "range", "empty"],
)
def test_get_response_normal_vectors_parse_and_reproduce(b):
    r = resp(b)
    assert (r.service, r.choice, r.invoke_id_and_priority, r.result) == (x.GET_RESPONSE, 1, 0xC1, x.SUCCESS)
    assert r.value == (4, len(b))

    def write(w):
        x.get_response_normal_header(w, 0xC1)
        w.raw(b[4:])

    assert out(write) == b


@pytest.mark.parametrize("b,dar", [(DENIED_RESP, x.READ_WRITE_DENIED), (HWFAULT_RESP, x.HARDWARE_FAULT)])
def test_get_response_error_vectors(b, dar):
    r = resp(b)
    assert (r.choice, r.result, r.value) == (1, dar, None)
    assert out(x.get_response_normal_error, 0xC1, dar) == b


def test_get_response_with_list_vector():
    r = resp(LIST_RESP)
    assert (r.choice, r.count) == (x.GET_WITH_LIST, 1)
    assert results(r, LIST_RESP) == [(0, h("02 02 0F FF 16 1E"), None)]

    def write(w):
        x.get_response_with_list_header(w, 0xC1, 1)
        x.get_data_result(w)
        w.raw(h("02 02 0F FF 16 1E"))

    assert out(write) == LIST_RESP


def test_get_response_datablock_vector():
    r = resp(BLOCK1_RESP)
    assert (r.choice, r.last_block, r.block_number, r.raw) == (x.GET_WITH_DATABLOCK, False, 1, (10, 64))
    assert x.block_header_len(0x36) == 10 and x.block_room(64) == 0x36

    def write(w):
        x.get_response_block(w, 0xC1, False, 1, 0x36)
        w.raw(OBJLIST_DATA[:0x36])

    assert out(write) == BLOCK1_RESP


def test_block_sizes():
    for size in range(0, 70000, 7):
        n = x.block_room(size)
        if n:
            assert n + x.block_header_len(n) <= size < n + 1 + x.block_header_len(n + 1)
        else:
            assert size < 1 + x.block_header_len(1)
        m = x.block_room(size, True)
        assert m == 0 or m + x.block_header_len(m, True) <= size < m + 1 + x.block_header_len(m + 1, True)
    for n in (0, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000):
        assert len(out(x.get_response_block, 0xC1, True, 7, n, size=16)) == x.block_header_len(n)
        assert len(out(x.action_response_with_pblock, 0xC1, True, 7, n, size=16)) == x.block_header_len(n, True)


# ---- requests from the real clients ----


def _gurux():
    from gurux_dlms import GXDLMSClient
    from gurux_dlms.enums import Authentication, Conformance, InterfaceType

    c = GXDLMSClient(True, 0x10, 1, Authentication.NONE, None, InterfaceType.WRAPPER)
    c.settings.negotiatedConformance |= (
        Conformance.MULTIPLE_REFERENCES
        | Conformance.BLOCK_TRANSFER_WITH_SET_OR_WRITE
        | Conformance.BLOCK_TRANSFER_WITH_ACTION
    )
    return c


def _frames(x_):
    for f in x_:
        if isinstance(f, list):
            yield from _frames(f)
        else:
            yield unwrap(f)


def test_gurux_read_write_method():
    from gurux_dlms.enums import DataType
    from gurux_dlms.objects import GXDLMSData, GXDLMSDisconnectControl, GXDLMSRegister

    c = _gurux()
    (b,) = _frames(c.read(GXDLMSRegister("1.0.1.8.0.255"), 2))
    assert b == REG_REQ
    d = GXDLMSData("0.0.96.1.0.255")
    d.value = 12345
    d.setDataType(2, DataType.UINT32)
    (b,) = _frames(c.write(d, 2))
    assert b == GX_WRITE
    q = req(b)
    assert (q.service, q.choice, q.class_id, bytes(q.obis), q.attribute_id) == (x.SET_REQUEST, 1, 1, h("00 00 60 01 00 FF"), 2)
    assert (q.selector, q.access, at(b, q.value)) == (0, None, h("06 00 00 30 39"))
    (b,) = _frames(c.method(GXDLMSDisconnectControl("0.0.96.3.10.255"), 1, 0, DataType.INT8))
    assert b == GX_METHOD
    q = req(b)
    assert (q.service, q.choice, q.class_id, bytes(q.obis)) == (x.ACTION_REQUEST, 1, 70, h("00 00 60 03 0A FF"))
    assert (q.method_id, q.attribute_id, at(b, q.value)) == (1, 0, h("0F 00"))


def test_gurux_profile_by_entry_and_range():
    from gurux_dlms.objects import GXDLMSCaptureObject, GXDLMSClock, GXDLMSProfileGeneric, GXDLMSRegister

    c = _gurux()
    pg = GXDLMSProfileGeneric("1.0.99.1.0.255")
    pg.captureObjects.append((GXDLMSClock("0.0.1.0.0.255"), GXDLMSCaptureObject(2, 0)))
    pg.captureObjects.append((GXDLMSRegister("1.0.1.8.0.255"), GXDLMSCaptureObject(2, 0)))
    (b,) = _frames(c.readRowsByEntry(pg, 1, 2))
    assert b == ENTRY_REQ
    (b,) = _frames(c.readRowsByRange(pg, datetime.datetime(2024, 1, 1, 2), datetime.datetime(2024, 1, 1, 5)))
    assert b == RANGE_HEAD + RANGE_PARAMS_GURUX
    q = req(b)
    assert q.selector == 1 and Reader(b, *q.access).data()[0] == 2


def test_gurux_read_list_and_write_list():
    from gurux_dlms.enums import DataType
    from gurux_dlms.GXWriteItem import GXWriteItem
    from gurux_dlms.objects import GXDLMSClock, GXDLMSData, GXDLMSRegister

    c = _gurux()
    r = GXDLMSRegister("1.0.1.8.0.255")
    (b,) = _frames(c.readList([(r, 2), (r, 3), (GXDLMSClock("0.0.1.0.0.255"), 2)]))
    assert b == GX_READ_LIST
    q = req(b)
    assert (q.choice, q.count) == (x.GET_WITH_LIST, 3)
    assert items(q, b) == [
        (3, h("01 00 01 08 00 FF"), 2, 0, 0, None, None),
        (3, h("01 00 01 08 00 FF"), 3, 0, 0, None, None),
        (8, h("00 00 01 00 00 FF"), 2, 0, 0, None, None),
    ]

    def item(obj, index):
        # GXWriteItem's constructor drops its arguments and writeList calls a method it lacks
        it = GXWriteItem()
        it.target = obj
        it.index = index
        it.getDataType = lambda: None
        return it

    d1 = GXDLMSData("0.0.96.1.0.255")
    d1.value = 12345
    d1.setDataType(2, DataType.UINT32)
    d2 = GXDLMSData("0.0.96.1.1.255")
    d2.value = b"AAA"
    d2.setDataType(2, DataType.OCTET_STRING)
    (b,) = _frames(c.writeList([item(d1, 2), item(d2, 2)]))
    assert b == GX_WRITE_LIST
    q = req(b)
    assert (q.service, q.choice, q.count) == (x.SET_REQUEST, x.SET_WITH_LIST, 2)
    assert items(q, b) == [
        (1, h("00 00 60 01 00 FF"), 2, 0, 0, None, h("06 00 00 30 39")),
        (1, h("00 00 60 01 01 FF"), 2, 0, 0, None, h("09 03 41 41 41")),
    ]


def test_gurux_set_and_action_block_transfer():
    from gurux_dlms.enums import DataType
    from gurux_dlms.objects import GXDLMSData, GXDLMSDisconnectControl

    c = _gurux()
    c.maxReceivePDUSize = 64
    d = GXDLMSData("0.0.96.1.1.255")
    d.value = b"A" * 100
    d.setDataType(2, DataType.OCTET_STRING)
    blocks = list(_frames(c.write(d, 2)))
    assert len(blocks) == 3
    raw = b""
    for i, b in enumerate(blocks):
        q = req(b)
        assert q.service == x.SET_REQUEST and q.block_number == i + 1 and q.last_block == (i == 2)
        assert q.choice == (x.SET_WITH_FIRST_DATABLOCK if i == 0 else x.SET_WITH_DATABLOCK)
        raw += at(b, q.raw)
    q = req(blocks[0])
    assert (q.class_id, bytes(q.obis), q.attribute_id, q.selector, q.value) == (1, h("00 00 60 01 01 FF"), 2, 0, None)
    assert raw == h("09 64") + b"A" * 100
    blocks = list(_frames(c.method(GXDLMSDisconnectControl("0.0.96.3.10.255"), 1, b"B" * 100, DataType.OCTET_STRING)))
    q = req(blocks[0])
    assert (q.service, q.choice, q.class_id, q.method_id, q.block_number) == (x.ACTION_REQUEST, x.ACTION_WITH_FIRST_PBLOCK, 70, 1, 1)
    raw = at(blocks[0], q.raw)
    for b in blocks[1:]:
        q = req(b)
        assert q.choice == x.ACTION_WITH_PBLOCK
        raw += at(b, q.raw)
    # Gurux leaves last-block FALSE on its final pblock; the octets are all there
    assert raw == h("09 64") + b"B" * 100


def _cosem_attr(interface, obis, attribute):
    from dlms_cosem import cosem, enumerations

    return cosem.CosemAttribute(
        interface=enumerations.CosemInterface(interface), instance=cosem.Obis(*obis), attribute=attribute
    )


def test_dlms_cosem_requests():
    from dlms_cosem import cosem, enumerations
    from dlms_cosem.cosem.capture_object import CaptureObject
    from dlms_cosem.cosem.selective_access import RangeDescriptor
    from dlms_cosem.protocol.xdlms import (
        ActionRequestNormal,
        GetRequestNext,
        GetRequestNormal,
        GetRequestWithList,
        SetRequestNormal,
    )
    from dlms_cosem.protocol.xdlms.invoke_id_and_priority import InvokeIdAndPriority

    iip = InvokeIdAndPriority(1, True, True)
    clock = _cosem_attr(8, (0, 0, 1, 0, 0, 255), 2)
    b = GetRequestNormal(cosem_attribute=clock, invoke_id_and_priority=iip).to_bytes()
    assert b == CLOCK_REQ and req(b).class_id == 8
    rd = RangeDescriptor(
        restricting_object=CaptureObject(clock), from_value=datetime.datetime(2024, 1, 1, 2), to_value=datetime.datetime(2024, 1, 1, 5)
    )
    b = GetRequestNormal(cosem_attribute=_cosem_attr(7, (1, 0, 99, 1, 0, 255), 2), access_selection=rd, invoke_id_and_priority=iip).to_bytes()
    assert b == RANGE_HEAD + RANGE_PARAMS_COSEM
    b = GetRequestNext(block_number=1, invoke_id_and_priority=iip).to_bytes()
    assert b == NEXT_REQ
    b = GetRequestWithList(
        cosem_attributes_with_selection=[
            cosem.CosemAttributeWithSelection(_cosem_attr(3, (1, 0, 1, 8, 0, 255), 2), None),
            cosem.CosemAttributeWithSelection(_cosem_attr(7, (1, 0, 99, 1, 0, 255), 2), rd),
        ],
        invoke_id_and_priority=iip,
    ).to_bytes()
    q = req(b)
    assert items(q, b) == [
        (3, h("01 00 01 08 00 FF"), 2, 0, 0, None, None),
        (7, h("01 00 63 01 00 FF"), 2, 0, 1, RANGE_PARAMS_COSEM, None),
    ]
    b = SetRequestNormal(cosem_attribute=clock, data=h("09 0C 07 E8 01 01 FF 02 00 00 00 80 00 00"), invoke_id_and_priority=iip).to_bytes()
    q = req(b)
    assert (q.service, q.class_id, q.attribute_id, at(b, q.value)) == (x.SET_REQUEST, 8, 2, h("09 0C 07 E8 01 01 FF 02 00 00 00 80 00 00"))
    method = cosem.CosemMethod(enumerations.CosemInterface.DISCONNECT_CONTROL, cosem.Obis(0, 0, 96, 3, 10, 255), 2)
    for data in (h("0F 00"), None):
        b = ActionRequestNormal(cosem_method=method, data=data, invoke_id_and_priority=iip).to_bytes()
        q = req(b)
        assert (q.service, q.class_id, q.method_id, at(b, q.value)) == (x.ACTION_REQUEST, 70, 2, data)


# ---- our client encoders give the clients' bytes ----


def test_client_encoders_match_vectors():
    assert out(xc.get_request_normal, 0xC1, 15, h("00 00 28 00 00 FF"), 2) == OBJLIST_REQ

    def entry(w):
        xc.get_request_normal(w, 0xC1, 7, h("01 00 63 01 00 FF"), 2, 2)
        w.raw(ENTRY_PARAMS)

    assert out(entry) == ENTRY_REQ

    def read_list(w):
        xc.get_request_with_list_header(w, 0xC1, 3)
        xc.attribute_descriptor(w, 3, h("01 00 01 08 00 FF"), 2)
        xc.attribute_descriptor(w, 3, h("01 00 01 08 00 FF"), 3)
        xc.attribute_descriptor(w, 8, h("00 00 01 00 00 FF"), 2)

    assert out(read_list) == GX_READ_LIST

    def write(w):
        xc.set_request_normal(w, 0xC1, 1, h("00 00 60 01 00 FF"), 2)
        w.double_long_unsigned(12345)

    assert out(write) == GX_WRITE

    def method(w):
        xc.action_request_normal(w, 0xC1, 70, h("00 00 60 03 0A FF"), 1, True)
        w.integer(0)

    assert out(method) == GX_METHOD
    assert out(xc.action_request_normal, 0xC1, 70, h("00 00 60 03 0A FF"), 2) == h("C3 01 C1 00 46 00 00 60 03 0A FF 02 00")


# ---- SET / ACTION forms built from the grammar, cross-checked with Gurux's translator ----

SET_FIRST_SEL = h("C1 02 C1 00 07 01 00 63 01 00 FF 02 01 02") + ENTRY_PARAMS + h("00 00 00 00 01 03 09 01 41")
SET_BLOCK = h("C1 03 C1 01 00 00 00 02 02 41 41")
SET_LIST_FIRST = h("C1 05 C1 01 00 01 00 00 60 01 00 FF 02 00 01 00 00 00 01 05 06 00 00 30 39")
ACTION_LIST = h("C3 03 C1 02 00 46 00 00 60 03 0A FF 01 00 46 00 00 60 03 0A FF 02 02 0F 00 00")
ACTION_LIST_FIRST = h("C3 05 C1 01 00 46 00 00 60 03 0A FF 01 00 00 00 00 01 02 0F 00")
ACTION_NEXT = h("C3 02 C1 00 00 00 02")
ACTION_BLOCK = h("C3 06 C1 01 00 00 00 02 01 00")
ACTION_FIRST = h("C3 04 C1 00 46 00 00 60 03 0A FF 01 01 00 00 00 01 02 0F 00")


def test_set_and_action_request_forms():
    q = req(SET_FIRST_SEL)
    assert (q.choice, q.class_id, q.attribute_id, q.selector, at(SET_FIRST_SEL, q.access)) == (2, 7, 2, 2, ENTRY_PARAMS)
    assert (q.last_block, q.block_number, at(SET_FIRST_SEL, q.raw), q.value) == (False, 1, h("09 01 41"), None)
    q = req(SET_BLOCK)
    assert (q.choice, q.last_block, q.block_number, at(SET_BLOCK, q.raw), q.obis) == (3, True, 2, b"AA", None)
    q = req(SET_LIST_FIRST)
    assert (q.choice, q.count, q.last_block, q.block_number, at(SET_LIST_FIRST, q.raw)) == (5, 1, True, 1, h("06 00 00 30 39"))
    assert items(q, SET_LIST_FIRST) == [(1, h("00 00 60 01 00 FF"), 2, 0, 0, None, None)]
    q = req(ACTION_LIST)
    assert (q.choice, q.count) == (x.ACTION_WITH_LIST, 2)
    assert items(q, ACTION_LIST) == [
        (70, h("00 00 60 03 0A FF"), 0, 1, 0, None, h("0F 00")),
        (70, h("00 00 60 03 0A FF"), 0, 2, 0, None, h("00")),
    ]
    q = req(ACTION_LIST_FIRST)
    assert (q.choice, q.count, q.last_block, q.block_number, at(ACTION_LIST_FIRST, q.raw)) == (5, 1, False, 1, h("0F 00"))
    assert items(q, ACTION_LIST_FIRST) == [(70, h("00 00 60 03 0A FF"), 0, 1, 0, None, None)]
    q = req(ACTION_NEXT)
    assert (q.choice, q.block_number) == (x.ACTION_NEXT_PBLOCK, 2)
    q = req(ACTION_BLOCK)
    assert (q.choice, q.last_block, q.block_number, at(ACTION_BLOCK, q.raw)) == (x.ACTION_WITH_PBLOCK, True, 2, h("00"))
    q = req(ACTION_FIRST)
    assert (q.choice, q.method_id, q.last_block, q.block_number, at(ACTION_FIRST, q.raw)) == (4, 1, True, 1, h("0F 00"))


def _xml(b):
    from gurux_dlms import GXByteBuffer, GXDLMSTranslator
    from gurux_dlms.enums import TranslatorOutputType

    return GXDLMSTranslator(TranslatorOutputType.SIMPLE_XML).pduToXml(GXByteBuffer(b))


def test_gurux_translator_reads_our_requests():
    s = _xml(SET_BLOCK)
    assert "SetRequestWithDataBlock" in s and 'BlockNumber Value="00000002"' in s and 'RawData Value="4141"' in s
    s = _xml(h("C1 04 C1 01 00 01 00 00 60 01 00 FF 02 00 01 06 00 00 30 39"))
    assert "SetRequestWithList" in s and 'UInt32 Value="00003039"' in s


def test_gurux_translator_reads_our_responses():
    cases = [
        (out(x.set_response_normal, 0xC1, x.SUCCESS), ["SetResponseNormal", 'Result Value="Success"']),
        (out(x.set_response_datablock, 0xC1, 7), ["SetResponseDataBlock", 'BlockNumber Value="00000007"']),
        (out(x.set_response_last_datablock, 0xC1, x.SUCCESS, 5), ["SetResponseWithLastDataBlock", 'BlockNumber Value="00000005"']),
        (out(x.set_response_with_list, 0xC1, [0, 3]), ["SetResponseWithList", 'Qty="2"', "ReadWriteDenied"]),
        (out(x.action_response_normal, 0xC1, x.SUCCESS), ["ActionResponseNormal", 'Result Value="Success"']),
        (out(x.action_response_next_pblock, 0xC1, 2), ["ActionResponseNextBlock", 'BlockNumber Value="00000002"']),
        (out(x.get_response_block_error, 0xC1, 2, x.LONG_GET_ABORTED), ["GetResponsewithDataBlock", "LongGetOrReadAborted"]),
        (out(x.exception_response, x.SERVICE_NOT_ALLOWED, x.SERVICE_NOT_SUPPORTED), ["ServiceNotAllowed", "ServiceNotSupported"]),
    ]

    def action_data(w):
        x.action_response_normal(w, 0xC1, x.SUCCESS, True)
        w.double_long_unsigned(1)

    def action_dar(w):
        x.action_response_normal(w, 0xC1, x.READ_WRITE_DENIED)
        w.pos -= 1  # replace the absent flag by a return data-access-result
        w.u8(1)
        w.u8(1)
        w.u8(x.READ_WRITE_DENIED)

    cases.append((out(action_data), ["ReturnParameters", 'UInt32 Value="00000001"']))
    cases.append((out(action_dar), ["DataAccessError", "ReadWriteDenied"]))
    for b, needles in cases:
        s = _xml(b)
        for n in needles:
            assert n in s, (b.hex(), s)


def test_action_response_writers():
    assert out(x.action_response_normal, 0xC1, 0) == h("C7 01 C1 00 00")

    def with_list(w):
        x.action_response_with_list_header(w, 0xC1, 3)
        x.action_result(w, 0)
        x.action_result(w, 0, True)
        w.unsigned(5)
        x.action_result_error(w, 3, 3)

    b = out(with_list)
    assert b == h("C7 03 C1 03 00 00 00 01 00 11 05 03 01 01 03")
    r = resp(b)
    assert (r.service, r.choice, r.count) == (x.ACTION_RESPONSE, 3, 3)
    assert results(r, b) == [(0, None, None), (0, h("11 05"), None), (3, None, 3)]

    def pblock(w):
        x.action_response_with_pblock(w, 0xC1, True, 1, 2)
        w.raw(h("11 05"))

    b = out(pblock)
    r = resp(b)
    assert (r.choice, r.last_block, r.block_number, at(b, r.raw)) == (2, True, 1, h("11 05"))


def test_dlms_cosem_parses_our_responses():
    from dlms_cosem import enumerations
    from dlms_cosem.protocol.xdlms import ActionResponseFactory, GetResponseFactory, SetResponseFactory
    from dlms_cosem.protocol.xdlms.exception_response import ExceptionResponse

    r = GetResponseFactory.from_bytes(out(x.get_response_normal_error, 0xC1, x.OBJECT_UNDEFINED))
    assert r.error == enumerations.DataAccessResult.OBJECT_UNDEFINED
    r = GetResponseFactory.from_bytes(BLOCK1_RESP)
    assert r.block_number == 1 and r.data == OBJLIST_DATA[:0x36]
    r = GetResponseFactory.from_bytes(LIST_RESP)
    assert r.invoke_id_and_priority.invoke_id == 1
    r = SetResponseFactory.from_bytes(out(x.set_response_normal, 0xC1, x.TYPE_UNMATCHED))
    assert r.result == enumerations.DataAccessResult.TYPE_UNMATCHED
    r = ActionResponseFactory.from_bytes(out(x.action_response_normal, 0xC1, x.SUCCESS))
    assert r.status == enumerations.ActionResultStatus.SUCCESS
    r = ExceptionResponse.from_bytes(out(x.exception_response, x.SERVICE_UNKNOWN, x.OPERATION_NOT_POSSIBLE))
    assert (r.state_error, r.service_error) == (enumerations.StateException.SERVICE_UNKNOWN, enumerations.ServiceException.OPERATION_NOT_POSSIBLE)


def test_set_response_writers_and_parser():
    b = out(x.set_response_last_datablock_with_list, 0xC1, bytes([0, 3, 12]), 9)
    assert b == h("C5 04 C1 03 00 03 0C 00 00 00 09")
    r = resp(b)
    assert (r.choice, r.count, r.block_number) == (4, 3, 9)
    assert results(r, b) == [(0, None, None), (3, None, None), (12, None, None)]
    r = resp(out(x.set_response_last_datablock, 0xC1, x.LONG_SET_ABORTED, 4))
    assert (r.choice, r.result, r.block_number) == (3, 17, 4)


def test_exception_response():
    assert out(x.exception_response, x.SERVICE_NOT_ALLOWED, x.SERVICE_NOT_SUPPORTED) == h("D8 01 02")
    b = out(x.exception_response, x.SERVICE_NOT_ALLOWED, x.INVOCATION_COUNTER_ERROR, 0x01020304)
    assert b == h("D8 01 06 01 02 03 04")
    r = resp(b)
    assert (r.service, r.state_error, r.service_error, r.invocation_counter) == (x.EXCEPTION_RESPONSE, 1, 6, 0x01020304)
    with pytest.raises(ValueError):
        out(x.exception_response, 1, x.INVOCATION_COUNTER_ERROR)
    for bad in ("D8 01", "D8 01 07", "D8 01 06 00 00 01", "D8 01 02 00"):
        with pytest.raises(XdlmsError):
            resp(h(bad))


def test_enumeration_numbers():
    # Gurux ErrorCode / ActionRequestType / ExceptionServiceError and dlms-cosem enumerations agree with ours.
    from dlms_cosem import enumerations as e

    for m in e.DataAccessResult:
        assert getattr(x, m.name) == m.value
    for m in e.ActionResultStatus:
        assert getattr(x, m.name) == m.value
    assert [x.SERVICE_NOT_ALLOWED, x.SERVICE_UNKNOWN] == [m.value for m in e.StateException]
    assert [x.OPERATION_NOT_POSSIBLE, x.SERVICE_NOT_SUPPORTED, x.SERVICE_OTHER_REASON, x.PDU_TOO_LONG, x.DECIPHERING_ERROR, x.INVOCATION_COUNTER_ERROR] == [
        m.value for m in e.ServiceException
    ]
    assert [x.ACTION_NORMAL, x.ACTION_NEXT_PBLOCK, x.ACTION_WITH_LIST, x.ACTION_WITH_FIRST_PBLOCK, x.ACTION_WITH_LIST_AND_FIRST_PBLOCK, x.ACTION_WITH_PBLOCK] == [
        m.value for m in e.ActionType
    ]
    assert [x.SET_NORMAL, x.SET_WITH_FIRST_DATABLOCK, x.SET_WITH_DATABLOCK, x.SET_WITH_LIST, x.SET_WITH_LIST_AND_FIRST_DATABLOCK] == [
        m.value for m in e.SetRequestType
    ]
    assert [
        x.SET_RESPONSE_NORMAL,
        x.SET_RESPONSE_DATABLOCK,
        x.SET_RESPONSE_LAST_DATABLOCK,
        x.SET_RESPONSE_LAST_DATABLOCK_WITH_LIST,
        x.SET_RESPONSE_WITH_LIST,
    ] == [m.value for m in e.SetResponseType]
    from gurux_dlms.enums import Command

    for name in ("GET_REQUEST", "SET_REQUEST", "GET_RESPONSE", "SET_RESPONSE", "EXCEPTION_RESPONSE", "GENERAL_BLOCK_TRANSFER"):
        assert getattr(x, name) == getattr(Command, name)
    assert (x.ACTION_REQUEST, x.ACTION_RESPONSE) == (Command.METHOD_REQUEST, Command.METHOD_RESPONSE)
    for name in ("GLO_GET_REQUEST", "GLO_SET_REQUEST", "GLO_GET_RESPONSE", "DED_GET_REQUEST", "GENERAL_GLO_CIPHERING", "GENERAL_DED_CIPHERING", "GENERAL_CIPHERING", "ACCESS_REQUEST", "DATA_NOTIFICATION"):
        assert getattr(x, name) == getattr(Command, name)
    assert (x.GLO_ACTION_REQUEST, x.DED_ACTION_REQUEST) == (Command.GLO_METHOD_REQUEST, Command.DED_METHOD_REQUEST)


# ---- malformed input ----

BAD = [
    ("", "empty"),
    ("C0", "no choice"),
    ("C0 01", "no invoke"),
    ("C0 04 C1", "unknown GET choice"),
    ("C1 06 C1", "unknown SET choice"),
    ("C3 07 C1", "unknown ACTION choice"),
    ("C3 00 C1", "choice 0"),
    ("C8 01 C1", "ciphered"),
    ("C4 01 C1 00 00", "a response"),
    ("C0 01 C1 00 03 01 00 01 08 00 FF 02 00 00", "trailing octet"),
    ("C0 01 C1 00 03 01 00 01 08 00 FF 02 02", "usage flag 2"),
    ("C0 01 C1 00 03 01 00 01 08 00 FF 02 01 01", "selection without Data"),
    ("C0 01 C1 00 03 01 00 01 08 00 FF 02 01 01 07", "bad Data tag"),
    ("C0 01 C1 00 03 01 00 01 08 00 FF 02 01 01 01 05", "array count past the end"),
    ("C0 03 C1 02 00 03 01 00 01 08 00 FF 02 00", "list count larger than the items"),
    ("C0 03 C1 84 FF FF FF FF 00 03 01 00 01 08 00 FF 02 00", "huge list count"),
    ("C1 01 C1 00 01 00 00 60 01 00 FF 02 00", "SET without value"),
    ("C1 04 C1 01 00 01 00 00 60 01 00 FF 02 00 02 06 00 00 30 39 06 00 00 30 39", "value count mismatch"),
    ("C1 03 C1 01 00 00 00 02 03 41 41", "raw-data past the end"),
    ("C1 03 C1 01 00 00 00 02 85 00 00 00 00 00", "bad length form"),
    ("C3 01 C1 00 46 00 00 60 03 0A FF 01 01", "ACTION flag without Data"),
    ("C3 03 C1 01 00 46 00 00 60 03 0A FF 01 00", "ACTION list with no parameters"),
    ("C0 02 C1 00 00 01", "short block number"),
]


@pytest.mark.parametrize("hexstr,why", BAD, ids=[b[1] for b in BAD])
def test_malformed_requests(hexstr, why):
    with pytest.raises(XdlmsError):
        req(h(hexstr))


def test_signed_ids_and_huge_values():
    q = req(h("C0 01 C1 00 03 01 00 01 08 00 FF 80 00"))
    assert q.attribute_id == -128
    q = req(h("C3 01 C1 00 46 00 00 60 03 0A FF FF 00"))
    assert q.method_id == -1
    q = req(h("C0 02 C1 FF FF FF FF"))
    assert q.block_number == 0xFFFFFFFF


def test_request_object_is_refilled():
    q = x.Request()
    x.parse_request(ENTRY_REQ, q)
    x.parse_request(NEXT_REQ, q)
    assert (q.class_id, q.obis, q.selector, q.access, q.block_number) == (0, None, 0, None, 1)
    x.parse_request(memoryview(LIST_REQ), q)
    assert q.count == 1 and q.block_number == 0
    with pytest.raises(XdlmsError):
        x.parse_request(b"\xc0\x09\xc1", q)
    x.parse_request(REG_REQ, q)
    assert q.count == 0 and q.class_id == 3


def test_writers_leave_pos_on_buffer_full():
    def check(fn, *args):
        full = out(fn, *args)
        for size in range(len(full)):
            buf = bytearray(size + 2)
            w = Writer(buf, 2)
            with pytest.raises(BufferFull):
                fn(w, *args)
            assert w.pos == 2

    check(x.get_response_normal_header, 0xC1)
    check(x.get_response_normal_error, 0xC1, 3)
    check(x.get_response_block, 0xC1, False, 1, 300)
    check(x.get_response_block_error, 0xC1, 1, 15)
    check(x.get_response_with_list_header, 0xC1, 200)
    check(x.get_data_result_error, 3)
    check(x.set_response_normal, 0xC1, 0)
    check(x.set_response_datablock, 0xC1, 5)
    check(x.set_response_last_datablock, 0xC1, 0, 5)
    check(x.set_response_with_list, 0xC1, [0] * 130)
    check(x.set_response_last_datablock_with_list, 0xC1, [0, 1], 5)
    check(x.action_response_normal, 0xC1, 0, True)
    check(x.action_response_with_list_header, 0xC1, 3)
    check(x.action_result, 0, True)
    check(x.action_result_error, 0, 3)
    check(x.action_response_with_pblock, 0xC1, True, 1, 0x80)
    check(x.action_response_next_pblock, 0xC1, 1)
    check(x.exception_response, 1, 6, 7)
    check(xc.get_request_normal, 0xC1, 7, b"\x01\x00\x63\x01\x00\xff", 2, 1)
    check(xc.get_request_next, 0xC1, 1)
    check(xc.get_request_with_list_header, 0xC1, 300)
    check(xc.attribute_descriptor, 3, b"\x01\x00\x01\x08\x00\xff", 2)
    check(xc.set_request_normal, 0xC1, 3, b"\x01\x00\x01\x08\x00\xff", 2, 1)
    check(xc.action_request_normal, 0xC1, 70, b"\x00\x00\x60\x03\x0a\xff", 1, True)


# ---- fuzz ----

VALID_REQUESTS = [
    OBJLIST_REQ,
    REG_REQ,
    LIST_REQ,
    ENTRY_REQ,
    RANGE_HEAD + RANGE_PARAMS_COSEM,
    NEXT_REQ,
    GX_WRITE,
    GX_METHOD,
    GX_READ_LIST,
    GX_WRITE_LIST,
    SET_FIRST_SEL,
    SET_BLOCK,
    SET_LIST_FIRST,
    ACTION_LIST,
    ACTION_LIST_FIRST,
    ACTION_NEXT,
    ACTION_BLOCK,
    ACTION_FIRST,
]
VALID_RESPONSES = [
    OBJLIST_RESP,
    REG_RESP,
    LIST_RESP,
    ENTRY_RESP,
    RANGE_RESP,
    EMPTY_RESP,
    DENIED_RESP,
    BLOCK1_RESP,
    h("C7 03 C1 03 00 00 00 01 00 11 05 03 01 01 03"),
    h("C5 04 C1 03 00 03 0C 00 00 00 09"),
    h("D8 01 06 01 02 03 04"),
]


def _spans_are_data(b, o):
    for name in ("access", "value"):
        s = getattr(o, name, None)
        if s is not None:
            r = Reader(b, s[0], s[1])
            assert r.skip() == s
    raw = getattr(o, "raw", None)
    if raw is not None:
        assert 0 <= raw[0] <= raw[1] <= len(b)


def _check_request(b):
    q = x.Request()
    try:
        x.parse_request(b, q)
    except XdlmsError:
        return
    _spans_are_data(b, q)
    for it in q.items(b):
        _spans_are_data(b, it)


def _check_response(b):
    r = xc.Response()
    try:
        xc.parse_response(b, r)
    except XdlmsError:
        return
    _spans_are_data(b, r)
    for it in r.results(b):
        _spans_are_data(b, it)


def test_every_truncation_is_an_error():
    for b in VALID_REQUESTS:
        for n in range(len(b)):
            with pytest.raises(XdlmsError):
                req(b[:n])
    for b in VALID_RESPONSES:
        for n in range(len(b)):
            with pytest.raises(XdlmsError):
                resp(b[:n])


def test_every_one_byte_mutation_of_the_vectors():
    # exhaustive where hypothesis samples: every position, every octet value
    for b in VALID_REQUESTS + VALID_RESPONSES:
        m = bytearray(b)
        for i in range(len(b)):
            for v in range(256):
                m[i] = v
                _check_request(m)
                _check_response(m)
            m[i] = b[i]


@FUZZ
@given(st.binary(max_size=80))
def test_fuzz_random_bytes(b):
    _check_request(b)
    _check_response(b)
    for tag in (0xC0, 0xC1, 0xC3):
        for choice in range(7):
            _check_request(bytes([tag, choice]) + b)
    for tag in (0xC4, 0xC5, 0xC7):
        for choice in range(6):
            _check_response(bytes([tag, choice]) + b)


@FUZZ
@given(st.sampled_from(VALID_REQUESTS + VALID_RESPONSES), st.data())
def test_fuzz_one_byte_mutations(b, data):
    i = data.draw(st.integers(0, len(b) - 1))
    v = data.draw(st.integers(0, 255))
    m = bytearray(b)
    m[i] = v
    m = bytes(m)
    _check_request(m)
    _check_response(m)
    cut = data.draw(st.integers(0, len(m)))
    _check_request(m[:cut])
    _check_response(m[:cut])


u8 = st.integers(0, 255)
u32 = st.integers(0, 0xFFFFFFFF)


@FUZZ
@given(u8, u8, u32, st.integers(0, 70000), st.booleans(), st.lists(u8, max_size=300))
def test_fuzz_response_writers_round_trip(invoke, dar, block, raw_len, last, dars):
    raw = bytes(i & 0xFF for i in range(raw_len))

    def block_g(w):
        x.get_response_block(w, invoke, last, block, raw_len)
        w.raw(raw)

    b = out(block_g, size=raw_len + 20)
    r = resp(b)
    assert (r.service, r.choice, r.invoke_id_and_priority, r.last_block, r.block_number) == (x.GET_RESPONSE, 2, invoke, last, block)
    assert at(b, r.raw) == raw and len(b) == x.block_header_len(raw_len) + raw_len
    r = resp(out(x.get_response_block_error, invoke, block, dar, last))
    assert (r.last_block, r.block_number, r.result, r.raw) == (last, block, dar, None)
    r = resp(out(x.get_response_normal_error, invoke, dar))
    assert (r.invoke_id_and_priority, r.result, r.value) == (invoke, dar, None)

    def with_list(w):
        x.get_response_with_list_header(w, invoke, len(dars))
        for i, d in enumerate(dars):
            if i & 1:
                x.get_data_result(w)
                w.unsigned(d)
            else:
                x.get_data_result_error(w, d)

    b = out(with_list)
    r = resp(b)
    assert r.count == len(dars)
    assert results(r, b) == [(0, bytes([17, d]), None) if i & 1 else (d, None, None) for i, d in enumerate(dars)]
    for fn, args, want in (
        (x.set_response_normal, (dar,), (1, dar, 0)),
        (x.set_response_datablock, (block,), (2, 0, block)),
        (x.set_response_last_datablock, (dar, block), (3, dar, block)),
    ):
        r = resp(out(fn, invoke, *args))
        assert (r.service, r.invoke_id_and_priority, r.choice, r.result, r.block_number) == (x.SET_RESPONSE, invoke) + want
    b = out(x.set_response_with_list, invoke, dars)
    r = resp(b)
    assert (r.choice, [i.result for i in r.results(b)]) == (5, dars)
    b = out(x.set_response_last_datablock_with_list, invoke, dars, block)
    r = resp(b)
    assert (r.choice, r.block_number, [i.result for i in r.results(b)]) == (4, block, dars)
    r = resp(out(x.action_response_normal, invoke, dar))
    assert (r.service, r.choice, r.result, r.value, r.value_result) == (x.ACTION_RESPONSE, 1, dar, None, None)
    r = resp(out(x.action_response_next_pblock, invoke, block))
    assert (r.choice, r.block_number) == (4, block)
    r = resp(out(x.exception_response, dar, x.INVOCATION_COUNTER_ERROR, block))
    assert (r.state_error, r.service_error, r.invocation_counter) == (dar, 6, block)


@FUZZ
@given(u8, st.integers(0, 0xFFFF), st.binary(min_size=6, max_size=6), st.integers(-128, 127), u8, u32)
def test_fuzz_client_encoders_round_trip(invoke, class_id, obis, index, selector, block):
    def get(w):
        xc.get_request_normal(w, invoke, class_id, obis, index, selector)
        if selector:
            w.null()

    b = out(get)
    q = req(b)
    assert (q.service, q.choice, q.invoke_id_and_priority, q.class_id, bytes(q.obis), q.attribute_id, q.selector) == (
        x.GET_REQUEST,
        1,
        invoke,
        class_id,
        obis,
        index,
        selector,
    )
    assert q.access == ((len(b) - 1, len(b)) if selector else None)

    def set_(w):
        xc.set_request_normal(w, invoke, class_id, obis, index)
        w.long_unsigned(class_id)

    b = out(set_)
    q = req(b)
    assert (q.service, q.class_id, q.attribute_id, at(b, q.value)) == (x.SET_REQUEST, class_id, index, b"\x12" + class_id.to_bytes(2, "big"))

    def action(w):
        xc.action_request_normal(w, invoke, class_id, obis, index, True)
        w.structure(0)

    b = out(action)
    q = req(b)
    assert (q.service, q.class_id, bytes(q.obis), q.method_id, at(b, q.value)) == (x.ACTION_REQUEST, class_id, obis, index, h("02 00"))
    q = req(out(xc.get_request_next, invoke, block))
    assert (q.choice, q.block_number) == (2, block)
