"""DLMS/COSEM client session, asyncio, over any APDU transport: AARQ/AARE (NONE, LOW), GET normal/next/with-list, SET normal/with datablocks, ACTION, RLRQ (IEC 62056-5-3, LN referencing)."""
# The module is a client of its own meter, and of the devices on its bus.
# A transport is any object with
#   async send_apdu(apdu)                one request APDU (bytes-like)
#   async recv_apdu(timeout_ms)          the next APDU as a memoryview, valid
#                                        until the next call; DlmsError
#                                        (TIMEOUT, LINK, PROTOCOL) otherwise
#   async open(client_sap), close()      optional: set up / take down the
#                                        lower layer (HDLC SNRM/DISC)
# client_io.py has the HDLC and TCP-wrapper ones. Retries live in the
# transport (HDLC repeats frames; TCP does not lose them).
#
# Values are not decoded: get() returns the A-XDR Data as a memoryview, of
# the transport's buffer for a normal response or of this client's own
# buffer for a block transfer; either is valid until the next call. Decode
# it with axdr.Reader, copy it to keep it.
from firmware.compat import const
from firmware.dlms import acse, axdr, initiate, xdlms
from firmware.dlms import xdlms_client as xc
from firmware.dlms.ber import BerError

# DlmsError.kind
DATA_ACCESS = const(1)
ACTION_RESULT = const(2)
ASSOCIATION = const(3)
INITIATE = const(4)
EXCEPTION = const(5)
TIMEOUT = const(6)
LINK = const(7)
PROTOCOL = const(8)
TOO_LONG = const(9)

# What we propose: the services this client uses, no more.
CONFORMANCE = (
    initiate.GET
    | initiate.SET
    | initiate.ACTION
    | initiate.SELECTIVE_ACCESS
    | initiate.BLOCK_TRANSFER_WITH_GET_OR_READ
    | initiate.BLOCK_TRANSFER_WITH_SET_OR_WRITE
    | initiate.MULTIPLE_REFERENCES
)

_STALE = const(4)  # replies with another invoke-id skipped before giving up
_INVOKE = const(0xC0)  # high priority, confirmed; the low nibble counts


class DlmsError(Exception):
    """Why a DLMS exchange failed. kind, then code:
    DATA_ACCESS    code = Data-Access-Result (xdlms.READ_WRITE_DENIED, ...)
    ACTION_RESULT  code = Action-Result
    ASSOCIATION    code = the AARE's result-source-diagnostic (acse.DIAG_*), with
                   source = acse.SOURCE_USER / SOURCE_PROVIDER, result = acse.REJECTED_*
    INITIATE       code = the AARE's ConfirmedServiceError value (initiate.INITIATE_*)
    EXCEPTION      code = service-error (xdlms.PDU_TOO_LONG, ...), source = state-error
    TIMEOUT        no answer within the time-out and the transport's retries
    LINK           the lower layer refused or dropped the connection
    PROTOCOL       a reply that is malformed or does not answer the request
    TOO_LONG       a request or reply larger than the buffers (or the peer's PDU)"""

    def __init__(self, kind, code=0, source=0, result=0):
        super().__init__(kind, code)
        self.kind = kind
        self.code = code
        self.source = source
        self.result = result


class DlmsClient:
    """One association at a time. max_pdu: our client-max-receive-pdu-size (the
    transport must hold an APDU that long); max_data: the largest value a block
    transfer may assemble; timeout_ms: the bound of each request/reply."""

    def __init__(self, transport, max_pdu=1024, max_data=4096, timeout_ms=10000):
        self.t = transport
        self.max_pdu = max_pdu
        self.timeout_ms = timeout_ms
        self._req = bytearray(max_pdu)
        self._qmv = memoryview(self._req)
        self._data = bytearray(max_data)
        self._dmv = memoryview(self._data)
        self._resp = xc.Response()
        self._inv = 0
        self.associated = False
        self.client = 0
        self.conformance = 0
        self.server_max_pdu = 0

    # ---- association ----
    async def associate(self, client_sap, password=None, max_pdu=None):
        """AARQ as client_sap, LOW authentication when a password (bytes) is given."""
        if max_pdu is not None:
            if not 12 <= max_pdu <= len(self._req):
                raise ValueError("max_pdu")
            self.max_pdu = max_pdu
        self.associated = False
        if hasattr(self.t, "open"):
            await self.t.open(client_sap)
        self.client = client_sap
        a = acse.Aarq(user_information=initiate.InitiateRequest(proposed_conformance=CONFORMANCE,
                                                                client_max_receive_pdu_size=self.max_pdu))
        if password is not None:
            if isinstance(password, str):
                password = password.encode()
            a.sender_acse_requirements = True
            a.mechanism_name = acse.MECHANISM_LOW
            a.calling_authentication_value = password
        try:
            n = a.encode(self._req, 0)
        except BerError:
            raise DlmsError(TOO_LONG)
        await self.t.send_apdu(self._qmv[:n])
        r = await self.t.recv_apdu(self.timeout_ms)
        _exception(r)
        try:
            e = acse.decode_aare(r)
        except BerError:
            raise DlmsError(PROTOCOL)
        u = e.user_information
        if e.result != acse.ACCEPTED:
            if isinstance(u, initiate.ConfirmedServiceError):
                raise DlmsError(INITIATE, u.value)
            raise DlmsError(ASSOCIATION, e.result_source_diagnostic, e.diagnostic_source, e.result)
        if not isinstance(u, initiate.InitiateResponse):
            raise DlmsError(PROTOCOL)
        self.conformance = u.negotiated_conformance
        self.server_max_pdu = u.server_max_receive_pdu_size or 0xFFFF
        self.associated = True

    async def release(self):
        """RLRQ, then the transport's close(); True if a well-formed RLRE came back."""
        ok = False
        try:
            if self.associated:
                n = acse.Rlrq(reason=acse.RELEASE_NORMAL).encode(self._req, 0)
                await self.t.send_apdu(self._qmv[:n])
                r = await self.t.recv_apdu(self.timeout_ms)
                try:
                    acse.decode_rlre(r)
                    ok = True
                except BerError:
                    pass
        except DlmsError:
            pass
        finally:
            self.associated = False
            if hasattr(self.t, "close"):
                await self.t.close()
        return ok

    # ---- requests ----
    def _writer(self):
        # Requests are built here, no longer than the server takes.
        end = len(self._req)
        if self.server_max_pdu and self.server_max_pdu < end:
            end = self.server_max_pdu
        self._inv = (self._inv + 1) & 0x0F
        return axdr.Writer(self._req, 0, end)

    async def _exchange(self, n, service):
        # Send the request in _req[:n]; the reply to it, parsed into _resp.
        try:
            await self.t.send_apdu(self._qmv[:n])
            return await self._reply(service)
        except DlmsError as e:
            if e.kind == LINK:
                self.associated = False  # the lower layer went, and the association with it
            raise

    async def _reply(self, service):
        inv = _INVOKE | self._inv
        q = self._resp
        for _ in range(_STALE):
            r = await self.t.recv_apdu(self.timeout_ms)
            _exception(r)
            try:
                xc.parse_response(r, q)
            except xdlms.XdlmsError:
                raise DlmsError(PROTOCOL)
            if q.service == service and q.invoke_id_and_priority == inv:
                return r
            # A late reply to an earlier request: not ours, wait on.
        raise DlmsError(PROTOCOL)

    async def get(self, class_id, obis, attr, selector=0, params=None):
        """The attribute's Data (memoryview); selector and params (A-XDR bytes of
        the access parameters) for selective access. Block transfer is followed."""
        w = self._writer()
        try:
            xc.get_request_normal(w, _INVOKE | self._inv, class_id, obis, attr, selector)
            if selector:
                w.raw(params)
        except axdr.BufferFull:
            raise DlmsError(TOO_LONG)
        r = await self._exchange(w.pos, xdlms.GET_RESPONSE)
        q = self._resp
        if q.choice == 1:
            if q.value is None:
                raise DlmsError(DATA_ACCESS, q.result)
            return r[q.value[0] : q.value[1]]
        if q.choice != 2:
            raise DlmsError(PROTOCOL)
        n = await self._blocks(r)
        v = self._dmv[:n]
        try:
            s, e = axdr.Reader(v).skip()
        except axdr.AxdrError:
            raise DlmsError(PROTOCOL)
        if e != n:
            raise DlmsError(PROTOCOL)
        return v

    async def _blocks(self, r):
        # GET-Response-With-Datablock, then GET-Request-Next until the last
        # block: the raw data assembled in _data; returns its length.
        q = self._resp
        inv = _INVOKE | self._inv
        pos = 0
        block = 1
        while True:
            if q.raw is None:
                raise DlmsError(DATA_ACCESS, q.result)
            if q.block_number != block:
                raise DlmsError(PROTOCOL)
            a, b = q.raw
            k = b - a
            if pos + k > len(self._data):
                raise DlmsError(TOO_LONG)
            self._dmv[pos : pos + k] = r[a:b]
            pos += k
            if q.last_block:
                return pos
            w = axdr.Writer(self._req)
            xc.get_request_next(w, inv, block)
            r = await self._exchange(w.pos, xdlms.GET_RESPONSE)
            if q.choice != 2:
                raise DlmsError(PROTOCOL)
            block += 1

    async def get_list(self, items):
        """GET-Request-With-List of items (class_id, obis, attr[, selector, params]):
        a list with, per item, its Data (memoryview) or its Data-Access-Result (int)."""
        w = self._writer()
        try:
            xc.get_request_with_list_header(w, _INVOKE | self._inv, len(items))
            for it in items:
                sel = it[3] if len(it) > 3 else 0
                xc.attribute_descriptor(w, it[0], it[1], it[2], sel)
                if sel:
                    w.raw(it[4])
        except axdr.BufferFull:
            raise DlmsError(TOO_LONG)
        r = await self._exchange(w.pos, xdlms.GET_RESPONSE)
        q = self._resp
        if q.choice == 3:
            return _results(r, 3, len(items))
        if q.choice == 2:
            n = await self._blocks(r)
            return _results(self._dmv[:n], 0, len(items))
        if q.choice == 1 and q.value is None:
            raise DlmsError(DATA_ACCESS, q.result)  # the list refused as a whole
        raise DlmsError(PROTOCOL)

    async def set(self, class_id, obis, attr, value, selector=0, params=None):
        """Writes value (the A-XDR Data, bytes-like); with datablocks when it does
        not fit the server's PDU. DlmsError(DATA_ACCESS) unless the result is success."""
        w = self._writer()
        inv = _INVOKE | self._inv
        try:
            xc.set_request_normal(w, inv, class_id, obis, attr, selector)
            if selector:
                w.raw(params)
            head = w.pos
            if head + len(value) <= w.end:
                w.raw(value)
                await self._exchange(w.pos, xdlms.SET_RESPONSE)
                return self._set_result()
        except axdr.BufferFull:
            raise DlmsError(TOO_LONG)
        if not self.conformance & initiate.BLOCK_TRANSFER_WITH_SET_OR_WRITE:
            raise DlmsError(TOO_LONG)
        self._req[1] = xdlms.SET_WITH_FIRST_DATABLOCK
        value = memoryview(value)
        pos = 0
        block = 1
        total = len(value)
        while True:
            room = w.end - head - 5  # last-block, block-number, then the length and raw data
            k = min(total - pos, room - (1 if room < 0x80 else 2 if room < 0x100 else 3))
            if k <= 0:
                raise DlmsError(TOO_LONG)
            w.pos = head
            last = pos + k >= total
            w.u8(1 if last else 0)
            w.u32(block)
            w.length(k)
            w.raw(value[pos : pos + k])
            await self._exchange(w.pos, xdlms.SET_RESPONSE)
            q = self._resp
            if last:
                if q.choice != 3 or q.block_number != block:
                    raise DlmsError(PROTOCOL)
                return self._set_result()
            if q.choice == 3:
                raise DlmsError(DATA_ACCESS, q.result)  # the server gave up early
            if q.choice != 2 or q.block_number != block:
                raise DlmsError(PROTOCOL)
            pos += k
            block += 1
            # The next block: C1 03 invoke, then the DataBlock-SA.
            w = axdr.Writer(self._req, 0, w.end)
            w.u8(xdlms.SET_REQUEST)
            w.u8(xdlms.SET_WITH_DATABLOCK)
            w.u8(inv)
            head = 3

    def _set_result(self):
        q = self._resp
        if q.choice not in (1, 3):
            raise DlmsError(PROTOCOL)
        if q.result:
            raise DlmsError(DATA_ACCESS, q.result)

    async def action(self, class_id, obis, method, params=None):
        """Invokes method with params (A-XDR Data bytes, or None); the
        return-parameters Data (memoryview) or None."""
        w = self._writer()
        try:
            xc.action_request_normal(w, _INVOKE | self._inv, class_id, obis, method, params is not None)
            if params is not None:
                w.raw(params)
        except axdr.BufferFull:
            raise DlmsError(TOO_LONG)
        r = await self._exchange(w.pos, xdlms.ACTION_RESPONSE)
        q = self._resp
        if q.choice != 1:
            raise DlmsError(PROTOCOL)
        if q.result:
            raise DlmsError(ACTION_RESULT, q.result)
        if q.value_result is not None:
            raise DlmsError(DATA_ACCESS, q.value_result)
        return None if q.value is None else r[q.value[0] : q.value[1]]


def _exception(r):
    # An ExceptionResponse instead of the reply: state-error, service-error.
    if not len(r):
        raise DlmsError(PROTOCOL)
    if r[0] == xdlms.EXCEPTION_RESPONSE:
        if len(r) < 3:
            raise DlmsError(PROTOCOL)
        raise DlmsError(EXCEPTION, r[2], r[1])


def _results(mv, pos, count):
    # SEQUENCE OF Get-Data-Result at mv[pos:]: [0] Data or [1] Data-Access-Result.
    rd = axdr.Reader(mv, pos)
    out = []
    try:
        if rd.length() != count:
            raise DlmsError(PROTOCOL)
        for _ in range(count):
            c = rd.u8()
            if c == 0:
                s, e = rd.skip()
                out.append(mv[s:e])
            elif c == 1:
                out.append(rd.u8())
            else:
                raise DlmsError(PROTOCOL)
    except axdr.AxdrError:
        raise DlmsError(PROTOCOL)
    if rd.pos != len(mv):
        raise DlmsError(PROTOCOL)
    return out
