# xDLMS GET/SET/ACTION codecs on the MicroPython unix port: spec and client vectors, writers, errors, a mutation sweep.
from firmware.dlms import xdlms as x
from firmware.dlms import xdlms_client as xc
from firmware.dlms.axdr import BufferFull, Reader, Writer
from firmware.dlms.xdlms import XdlmsError


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


def out(fn, *args):
    buf = bytearray(512)
    w = Writer(buf)
    fn(w, *args)
    return bytes(buf[: w.pos])


def at(b, span):
    return None if span is None else bytes(b[span[0] : span[1]])


def raises(fn, *args):
    try:
        fn(*args)
    except XdlmsError:
        return True
    return False


# spec/dlms-byte-examples.md 4.2 and the Gurux client (see host_tests/unit/test_xdlms.py)
OBJLIST_DATA = h(
    "01 05 02 04 12 00 0F 11 02 09 06 00 00 28 00 00 FF 02 02 01 00 01 00 02 04 12 00 01 11 00 09 06 00 00 2A 00"
    " 00 FF 02 02 01 00 01 00 02 04 12 00 03 11 00 09 06 01 00 01 08 00 FF 02 02 01 00 01 00 02 04 12 00 08 11 00"
    " 09 06 00 00 01 00 00 FF 02 02 01 00 01 00 02 04 12 00 07 11 01 09 06 01 00 63 01 00 FF 02 02 01 00 01 00"
)
REG_REQ = h("C0 01 C1 00 03 01 00 01 08 00 FF 02 00")
LIST_REQ = h("C0 03 C1 01 00 03 01 00 01 08 00 FF 03 00")
LIST_RESP = h("C4 03 C1 01 00 02 02 0F FF 16 1E")
ENTRY_PARAMS = h("02 04 06 00 00 00 01 06 00 00 00 02 12 00 01 12 00 00")
ENTRY_REQ = h("C0 01 C1 00 07 01 00 63 01 00 FF 02 01 02") + ENTRY_PARAMS
RANGE_REQ = h(
    "C0 01 C1 00 07 01 00 63 01 00 FF 02 01 01 02 04 02 04 12 00 08 09 06 00 00 01 00 00 FF 0F 02 12 00 00 09 0C"
    " 07 E8 01 01 FF 02 00 00 00 80 00 00 09 0C 07 E8 01 01 FF 05 00 00 00 80 00 00 01 00"
)
NEXT_REQ = h("C0 02 C1 00 00 00 01")
CLOCK_RESP = h("C4 01 C1 00 09 0C 07 EA 0B 19 FF 00 22 20 00 00 00 00")
BLOCK1_RESP = h("C4 02 C1 00 00 00 00 01 00 36") + OBJLIST_DATA[:0x36]
GX_WRITE = h("C1 01 C1 00 01 00 00 60 01 00 FF 02 00 06 00 00 30 39")
GX_METHOD = h("C3 01 C1 00 46 00 00 60 03 0A FF 01 01 0F 00")
GX_WRITE_LIST = h("C1 04 C1 02 00 01 00 00 60 01 00 FF 02 00 00 01 00 00 60 01 01 FF 02 00 02 06 00 00 30 39 09 03 41 41 41")
SET_LIST_FIRST = h("C1 05 C1 01 00 01 00 00 60 01 00 FF 02 00 01 00 00 00 01 05 06 00 00 30 39")
ACTION_LIST = h("C3 03 C1 02 00 46 00 00 60 03 0A FF 01 00 46 00 00 60 03 0A FF 02 02 0F 00 00")


def test_get_requests():
    q = x.Request()
    x.parse_request(REG_REQ, q)
    assert (q.service, q.choice, q.invoke_id_and_priority, q.class_id, q.attribute_id) == (0xC0, 1, 0xC1, 3, 2)
    assert bytes(q.obis) == h("01 00 01 08 00 FF") and q.access is None
    x.parse_request(ENTRY_REQ, q)
    assert (q.selector, at(ENTRY_REQ, q.access)) == (2, ENTRY_PARAMS)
    x.parse_request(RANGE_REQ, q)
    assert q.selector == 1 and q.access[1] == len(RANGE_REQ)
    assert Reader(RANGE_REQ, q.access[0], q.access[1]).data()[0] == 2
    x.parse_request(NEXT_REQ, q)
    assert (q.choice, q.block_number, q.obis) == (2, 1, None)
    x.parse_request(memoryview(LIST_REQ), q)
    got = [(i.class_id, bytes(i.obis), i.attribute_id) for i in q.items(LIST_REQ)]
    assert got == [(3, h("01 00 01 08 00 FF"), 3)]


def test_set_and_action_requests():
    q = x.Request()
    x.parse_request(GX_WRITE, q)
    assert (q.service, q.class_id, q.attribute_id, at(GX_WRITE, q.value)) == (0xC1, 1, 2, h("06 00 00 30 39"))
    x.parse_request(GX_METHOD, q)
    assert (q.service, q.class_id, q.method_id, at(GX_METHOD, q.value)) == (0xC3, 70, 1, h("0F 00"))
    x.parse_request(GX_WRITE_LIST, q)
    assert [at(GX_WRITE_LIST, i.value) for i in q.items(GX_WRITE_LIST)] == [h("06 00 00 30 39"), h("09 03 41 41 41")]
    x.parse_request(SET_LIST_FIRST, q)
    assert (q.choice, q.count, q.last_block, q.block_number, at(SET_LIST_FIRST, q.raw)) == (5, 1, True, 1, h("06 00 00 30 39"))
    x.parse_request(ACTION_LIST, q)
    assert [(i.method_id, at(ACTION_LIST, i.value)) for i in q.items(ACTION_LIST)] == [(1, h("0F 00")), (2, h("00"))]
    x.parse_request(h("C0 01 C1 00 03 01 00 01 08 00 FF 80 00"), q)
    assert q.attribute_id == -128
    x.parse_request(h("C0 02 C1 FF FF FF FF"), q)
    assert q.block_number == 0xFFFFFFFF


def test_responses_reproduced():
    def clock(w):
        x.get_response_normal_header(w, 0xC1)
        w.raw(CLOCK_RESP[4:])

    assert out(clock) == CLOCK_RESP

    def block(w):
        x.get_response_block(w, 0xC1, False, 1, 0x36)
        w.raw(OBJLIST_DATA[:0x36])

    assert out(block) == BLOCK1_RESP and x.block_room(64) == 0x36

    def with_list(w):
        x.get_response_with_list_header(w, 0xC1, 1)
        x.get_data_result(w)
        w.raw(h("02 02 0F FF 16 1E"))

    assert out(with_list) == LIST_RESP
    assert out(x.get_response_normal_error, 0xC1, x.READ_WRITE_DENIED) == h("C4 01 C1 01 03")
    assert out(x.set_response_last_datablock_with_list, 0xC1, bytes([0, 3, 12]), 9) == h("C5 04 C1 03 00 03 0C 00 00 00 09")
    assert out(x.exception_response, 1, 6, 0x01020304) == h("D8 01 06 01 02 03 04")
    assert out(x.action_response_normal, 0xC1, 0) == h("C7 01 C1 00 00")


def test_response_parser():
    r = xc.Response()
    xc.parse_response(BLOCK1_RESP, r)
    assert (r.choice, r.last_block, r.block_number, r.raw) == (2, False, 1, (10, 64))
    xc.parse_response(LIST_RESP, r)
    assert [(i.result, at(LIST_RESP, i.value)) for i in r.results(LIST_RESP)] == [(0, h("02 02 0F FF 16 1E"))]
    b = h("C7 03 C1 03 00 00 00 01 00 11 05 03 01 01 03")
    xc.parse_response(b, r)
    assert [(i.result, at(b, i.value), i.value_result) for i in r.results(b)] == [(0, None, None), (0, h("11 05"), None), (3, None, 3)]
    xc.parse_response(h("D8 01 06 00 00 00 05"), r)
    assert (r.state_error, r.service_error, r.invocation_counter) == (1, 6, 5)


def test_client_encoders():
    def write(w):
        xc.set_request_normal(w, 0xC1, 1, h("00 00 60 01 00 FF"), 2)
        w.double_long_unsigned(12345)

    assert out(write) == GX_WRITE

    def entry(w):
        xc.get_request_normal(w, 0xC1, 7, h("01 00 63 01 00 FF"), 2, 2)
        w.raw(ENTRY_PARAMS)

    assert out(entry) == ENTRY_REQ
    assert out(xc.get_request_next, 0xC1, 1) == NEXT_REQ


def test_errors_and_buffer_full():
    for s in ("", "C0 04 C1", "C8 01 C1", "C0 01 C1 00 03 01 00 01 08 00 FF 02 00 00", "C0 03 C1 84 FF FF FF FF 00",
              "C1 04 C1 01 00 01 00 00 60 01 00 FF 02 00 02 06 00 00 30 39 06 00 00 30 39", "C1 03 C1 01 00 00 00 02 03 41 41"):
        assert raises(x.parse_request, h(s), x.Request()), s
    w = Writer(bytearray(11), 2)  # 9 octets of room, the header needs 10
    try:
        x.get_response_block(w, 0xC1, True, 1, 5)
        assert False
    except BufferFull:
        assert w.pos == 2


def test_truncations_and_mutations():
    q = x.Request()
    r = xc.Response()
    for b in (ENTRY_REQ, GX_WRITE_LIST, SET_LIST_FIRST, ACTION_LIST, BLOCK1_RESP[:20]):
        for n in range(len(b)):
            assert raises(x.parse_request, b[:n], q)
        m = bytearray(b)
        for i in range(len(b)):
            for v in (0, 1, 2, 0x7F, 0x80, 0x81, 0x84, 0xFF, b[i] ^ 1):
                m[i] = v
                for parse, o in ((x.parse_request, q), (xc.parse_response, r)):
                    try:
                        parse(m, o)
                    except XdlmsError:
                        pass
            m[i] = b[i]
