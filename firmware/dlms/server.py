"""The DLMS/COSEM server, sans-io: associations (ACSE) and the xDLMS services with LN referencing (IEC 62056-5-3)."""
# One request APDU in, at most one response APDU out, written into a buffer
# the transport owns. The transport (TCP wrapper, HDLC) knows the client's
# SAP and hands it in. Long GET values are streamed: the object model's
# generator writes one piece at a time into a small scratch buffer, and the
# pump copies pieces into the reply until the block is full, so an object
# list or a month of profile rows is never held whole in RAM.
from firmware.compat import const
from firmware.cosem import model as m
from firmware.cosem import objects
from firmware.dlms import acse, axdr, initiate, xdlms
from firmware.dlms.ber import BerError

MAX_PDU = const(1024)  # our max-receive-pdu-size, and the largest reply we build
_MIN_CLIENT_PDU = const(64)  # below this not even a block header and an error fit
_SCRATCH = const(512)  # the largest single piece a value generator writes
_SET_MAX = const(2048)  # the largest value a SET with block transfer may assemble
_LIST_MAX = const(32)  # items in one with-list request

# What this server implements (initiate.py names the bits). A client gets the
# AND of this and what it proposes, never more: a client granted a service
# it did not propose (ACCESS, general-block-transfer) would switch to it.
CONFORMANCE = (
    initiate.GET
    | initiate.SET
    | initiate.ACTION
    | initiate.SELECTIVE_ACCESS
    | initiate.BLOCK_TRANSFER_WITH_GET_OR_READ
    | initiate.BLOCK_TRANSFER_WITH_SET_OR_WRITE
    | initiate.MULTIPLE_REFERENCES
)

_LN_NO_CIPHERING = const(1)


class Session:
    """What the server knows of one connection: its association and any block transfer in progress."""

    def __init__(self, client=0):
        self.client = client
        self.associated = False
        self.mechanism = 0
        self.conformance = 0
        self.server_conformance = CONFORMANCE
        self.client_max_pdu = MAX_PDU
        self.server_max_pdu = MAX_PDU
        self.get_block = 0  # last GET block sent; 0 = none in progress
        self.get_invoke = 0
        self.set_block = 0  # last SET block received; 0 = none in progress
        self.set_target = None
        self.set_len = 0

    def reset(self):
        self.__init__(self.client)


class _Pump:
    # Pulls bytes out of a value generator: the generator writes a piece into
    # the scratch writer and yields; the pump hands the piece out and resumes.
    def __init__(self):
        self.w = axdr.Writer(bytearray(_SCRATCH))
        self.gen = None
        self.off = 0
        self.ended = True

    def start(self, gen):
        self.gen = gen
        self.ended = False
        self._next()

    def _next(self):
        self.w.pos = 0
        self.off = 0
        try:
            next(self.gen)
        except StopIteration:
            self.ended = True
            self.gen = None

    def stop(self):
        self.gen = None
        self.ended = True
        self.w.pos = 0
        self.off = 0

    def done(self):
        return self.ended and self.off >= self.w.pos

    def read(self, dst, pos, end):
        """Copy bytes into dst[pos:end]; returns the position after them."""
        while pos < end:
            avail = self.w.pos - self.off
            if avail <= 0:
                if self.ended:
                    break
                self._next()
                continue
            n = min(avail, end - pos)
            dst[pos : pos + n] = self.w.buf[self.off : self.off + n]
            self.off += n
            pos += n
        # Look ahead past the pieces used up, so that a value ending exactly
        # where the block ends is known to be done: it then goes in a normal
        # reply or a block marked last, not before an empty last block.
        while self.off >= self.w.pos and not self.ended:
            self._next()
        return pos


def _move_left(buf, dst, src, n):
    # Overlapping copy towards the start, in chunks that never overlap.
    step = src - dst
    if step <= 0:
        return  # already in place (a reply pumped at its normal offset)
    k = 0
    while k < n:
        c = min(step, n - k)
        buf[dst + k : dst + k + c] = buf[src + k : src + k + c]
        k += c


class Server:
    def __init__(self, model, secret, on_event=None):
        self.model = model
        self.secret = secret  # client SAP -> its LOW secret (bytes), or None if it has none
        self.on_event = on_event  # (name, detail) -> None: authentication failures and the like
        self.req = xdlms.Request()
        self.pump = _Pump()
        self.set_buf = bytearray(_SET_MAX)
        self.list_items = []
        self.stats = {"requests": 0, "exceptions": 0, "aarq": 0, "rejected": 0}

    def _event(self, name, detail):
        if self.on_event:
            self.on_event(name, detail)

    def handle(self, sess, apdu, out):
        """Serve one request APDU (memoryview); returns the length of the reply written into out, 0 for none."""
        self.stats["requests"] += 1
        if not len(apdu):
            return 0
        try:
            return self._handle(sess, apdu, out)
        except Exception as e:
            # A bug in a class must cost one request, not the connection or
            # the device: answer it as a service error and record it.
            self._abort_get(sess)
            self._event("server-error", repr(e))
            w = axdr.Writer(out, 0, min(len(out), sess.client_max_pdu))
            return self._exception(w, xdlms.SERVICE_NOT_ALLOWED, xdlms.SERVICE_OTHER_REASON)

    def _handle(self, sess, apdu, out):
        tag = apdu[0]
        w = axdr.Writer(out, 0, min(len(out), sess.client_max_pdu))
        try:
            if tag == acse.AARQ:
                return self._aarq(sess, apdu, out)
            if tag == acse.RLRQ:
                return self._rlrq(sess, apdu, out)
            if tag in (xdlms.GET_REQUEST, xdlms.SET_REQUEST, xdlms.ACTION_REQUEST):
                if not sess.associated:
                    return self._exception(w, xdlms.SERVICE_NOT_ALLOWED, xdlms.OPERATION_NOT_POSSIBLE)
                try:
                    req = xdlms.parse_request(apdu, self.req)
                except xdlms.XdlmsError:
                    return self._exception(w, xdlms.SERVICE_NOT_ALLOWED, xdlms.SERVICE_OTHER_REASON)
                if tag == xdlms.GET_REQUEST:
                    return self._get(sess, req, apdu, w)
                self._abort_get(sess)
                if tag == xdlms.SET_REQUEST:
                    return self._set(sess, req, apdu, w)
                return self._action(sess, req, apdu, w)
            return self._exception(w, xdlms.SERVICE_UNKNOWN, xdlms.SERVICE_NOT_SUPPORTED)
        except axdr.BufferFull:
            # A reply that cannot fit the client's PDU even as one block.
            w.pos = 0
            return self._exception(w, xdlms.SERVICE_NOT_ALLOWED, xdlms.PDU_TOO_LONG)

    def too_long(self, sess, out):
        """The reply to a request longer than our max-receive-pdu-size."""
        w = axdr.Writer(out, 0, min(len(out), sess.client_max_pdu))
        return self._exception(w, xdlms.SERVICE_NOT_ALLOWED, xdlms.PDU_TOO_LONG)

    def _exception(self, w, state, service):
        self.stats["exceptions"] += 1
        xdlms.exception_response(w, state, service)
        return w.pos

    # ---- ACSE ----
    def _aare(self, out, result, source, diag, user=None):
        return acse.Aare(result=result, diagnostic_source=source, result_source_diagnostic=diag,
                         user_information=user).encode(out, 0)

    def _reject(self, sess, out, diag, source=acse.SOURCE_USER, user=None):
        self.stats["rejected"] += 1
        sess.associated = False
        return self._aare(out, acse.REJECTED_PERMANENT, source, diag, user)

    def _aarq(self, sess, apdu, out):
        self.stats["aarq"] += 1
        self._abort_get(sess)
        sess.set_block = 0
        try:
            q = acse.decode_aarq(apdu)
        except BerError:
            return self._reject(sess, out, acse.DIAG_NO_REASON_GIVEN, acse.SOURCE_PROVIDER)
        if q.protocol_version is not None and not q.protocol_version & 0x80:
            return self._reject(sess, out, acse.DIAG_NO_COMMON_ACSE_VERSION, acse.SOURCE_PROVIDER)
        if q.application_context_name != _LN_NO_CIPHERING:
            return self._reject(sess, out, acse.DIAG_APPLICATION_CONTEXT_NAME_NOT_SUPPORTED)
        c = sess.client
        if c not in (objects.PUBLIC, objects.READER, objects.UTILITY):
            # An unknown client SAP: no association is defined for it.
            return self._reject(sess, out, acse.DIAG_NO_REASON_GIVEN)
        want = acse.MECHANISM_NONE if c == objects.PUBLIC else acse.MECHANISM_LOW
        mech = q.mechanism_name
        if mech is None:
            mech = acse.MECHANISM_NONE
        if mech != want:
            if want == acse.MECHANISM_LOW and mech == acse.MECHANISM_NONE:
                return self._reject(sess, out, acse.DIAG_AUTHENTICATION_MECHANISM_NAME_REQUIRED)
            return self._reject(sess, out, acse.DIAG_AUTHENTICATION_MECHANISM_NAME_NOT_RECOGNISED)
        if want == acse.MECHANISM_LOW:
            pw = q.calling_authentication_value
            if not q.sender_acse_requirements or pw is None:
                return self._reject(sess, out, acse.DIAG_AUTHENTICATION_REQUIRED)
            secret = self.secret(c)
            if secret is None or bytes(pw) != secret:
                self._event("auth-failure", c)
                return self._reject(sess, out, acse.DIAG_AUTHENTICATION_FAILURE)
        ini = q.user_information
        if ini is None:
            # Ciphered or missing xDLMS-Initiate: nothing this context can accept.
            return self._reject(sess, out, acse.DIAG_NO_REASON_GIVEN)
        err = None
        if ini.dedicated_key is not None:
            err = initiate.INITIATE_OTHER
        elif ini.proposed_dlms_version_number < initiate.DLMS_VERSION:
            err = initiate.INITIATE_DLMS_VERSION_TOO_LOW
        conf = ini.proposed_conformance & CONFORMANCE
        pdu = ini.client_max_receive_pdu_size or 0xFFFF
        if err is None and not conf:
            err = initiate.INITIATE_INCOMPATIBLE_CONFORMANCE
        if err is None and pdu < _MIN_CLIENT_PDU:
            err = initiate.INITIATE_PDU_SIZE_TOO_SHORT
        if err is not None:
            return self._reject(sess, out, acse.DIAG_NO_REASON_GIVEN, user=initiate.ConfirmedServiceError(err))
        sess.associated = True
        sess.mechanism = want
        sess.conformance = conf
        sess.client_max_pdu = min(pdu, MAX_PDU)
        resp = initiate.InitiateResponse(negotiated_conformance=conf, server_max_receive_pdu_size=MAX_PDU)
        return self._aare(out, acse.ACCEPTED, acse.SOURCE_USER, acse.DIAG_NULL, resp)

    def _rlrq(self, sess, apdu, out):
        try:
            q = acse.decode_rlrq(apdu)
        except BerError:
            w = axdr.Writer(out, 0, min(len(out), sess.client_max_pdu))
            return self._exception(w, xdlms.SERVICE_NOT_ALLOWED, xdlms.SERVICE_OTHER_REASON)
        user = None
        if q.user_information is not None and sess.associated:
            user = initiate.InitiateResponse(negotiated_conformance=sess.conformance,
                                             server_max_receive_pdu_size=MAX_PDU)
        self._abort_get(sess)
        sess.associated = False
        return acse.Rlre(reason=acse.RELEASE_NORMAL, user_information=user).encode(out, 0)

    # ---- GET ----
    def _abort_get(self, sess):
        if sess.get_block:
            self.pump.stop()
            sess.get_block = 0

    def _resolve_get(self, sess, class_id, ln, attr, selector, params, w):
        i, dar = self.model.lookup(class_id, ln)
        if dar:
            return dar
        if selector and not sess.conformance & initiate.SELECTIVE_ACCESS:
            return m.SCOPE_OF_ACCESS_VIOLATED
        return self.model.get(sess, i, attr, selector or None, params, w)

    def _get(self, sess, req, apdu, w):
        if not sess.conformance & initiate.GET:
            return self._exception(w, xdlms.SERVICE_NOT_ALLOWED, xdlms.SERVICE_NOT_SUPPORTED)
        c = req.choice
        inv = req.invoke_id_and_priority
        if c == xdlms.GET_NEXT:
            if not sess.get_block:
                xdlms.get_response_block_error(w, inv, req.block_number, m.NO_LONG_GET_IN_PROGRESS)
                return w.pos
            if req.block_number != sess.get_block:
                self._abort_get(sess)
                xdlms.get_response_block_error(w, inv, req.block_number, m.LONG_GET_ABORTED)
                return w.pos
            return self._next_block(sess, w, inv)
        self._abort_get(sess)
        if c == xdlms.GET_WITH_LIST:
            if not sess.conformance & initiate.MULTIPLE_REFERENCES:
                return self._exception(w, xdlms.SERVICE_NOT_ALLOWED, xdlms.SERVICE_NOT_SUPPORTED)
            return self._get_list(sess, req, apdu, w)
        params = None
        if req.access is not None:
            params = apdu[req.access[0] : req.access[1]]
        try:
            gen = self._resolve_get(sess, req.class_id, req.obis, req.attribute_id, req.selector, params, self.pump.w)
        except Exception as e:  # as for SET and ACTION: a class's failure is a hardware-fault result
            self._event("get-failed", repr(e))
            gen = m.HARDWARE_FAULT
        if isinstance(gen, int):
            xdlms.get_response_normal_error(w, inv, gen)
            return w.pos
        try:
            self.pump.start(gen)
        except Exception as e:  # a class's encoder failed: report it, never crash the link
            self.pump.stop()
            self._event("get-failed", repr(e))
            xdlms.get_response_normal_error(w, inv, m.OTHER_REASON if isinstance(e, axdr.BufferFull) else m.HARDWARE_FAULT)
            return w.pos
        return self._first_reply(sess, w, inv, 4)

    def _first_reply(self, sess, w, inv, normal_header):
        # Pump the value in at the data offset of block 1; if it all came,
        # slide it left under a normal header instead. A client without
        # block transfer gets no blocks: pump straight to the normal data
        # offset, so that any value that fits its PDU comes whole.
        out = w.buf
        limit = w.end
        if sess.conformance & initiate.BLOCK_TRANSFER_WITH_GET_OR_READ:
            room = xdlms.block_room(limit)
            hb = xdlms.block_header_len(room)
        else:
            hb = normal_header
            room = limit - hb
        try:
            end = self.pump.read(out, hb, hb + room)
        except Exception as e:
            self.pump.stop()
            self._event("get-failed", repr(e))
            w.pos = 0
            xdlms.get_response_normal_error(w, inv, m.HARDWARE_FAULT)
            return w.pos
        n = end - hb
        if self.pump.done() and normal_header + n <= limit:
            w.pos = 0
            if normal_header == 4:
                xdlms.get_response_normal_header(w, inv)
            else:
                xdlms.get_response_with_list_header(w, inv, len(self.list_items))
                # the list response's count was already pumped as part of the
                # raw data; the normal form writes it in its own header
                skip = _lensize(len(self.list_items))
                _move_left(out, w.pos, hb + skip, n - skip)
                self.list_items = []
                return w.pos + n - skip
            _move_left(out, w.pos, hb, n)
            return w.pos + n
        if not sess.conformance & initiate.BLOCK_TRANSFER_WITH_GET_OR_READ:
            self.pump.stop()
            w.pos = 0
            return self._exception(w, xdlms.SERVICE_NOT_ALLOWED, xdlms.PDU_TOO_LONG)
        sess.get_block = 1
        sess.get_invoke = inv
        last = self.pump.done()
        w.pos = 0
        xdlms.get_response_block(w, inv, last, 1, n)
        if last:
            sess.get_block = 0
        return w.pos + n

    def _next_block(self, sess, w, inv):
        out = w.buf
        room = xdlms.block_room(w.end)
        hb = xdlms.block_header_len(room)
        try:
            end = self.pump.read(out, hb, hb + room)
        except Exception as e:
            n = sess.get_block + 1  # the block that could not be made (before the abort clears it)
            self._abort_get(sess)
            self._event("get-failed", repr(e))
            xdlms.get_response_block_error(w, inv, n, m.LONG_GET_ABORTED)
            return w.pos
        n = end - hb
        sess.get_block += 1
        last = self.pump.done()
        h = xdlms.block_header_len(n)
        if h != hb:
            _move_left(out, h, hb, n)
        w.pos = 0
        xdlms.get_response_block(w, inv, last, sess.get_block, n)
        if last:
            sess.get_block = 0
        return w.pos + n

    def _get_list(self, sess, req, apdu, w):
        if req.count > _LIST_MAX:
            xdlms.get_response_normal_error(w, req.invoke_id_and_priority, m.OTHER_REASON)
            return w.pos
        # Copy the descriptors out: later blocks are served after the
        # receive buffer has been reused for GET-next requests.
        items = []
        for it in req.items(apdu):
            p = None
            if it.access is not None:
                p = bytes(apdu[it.access[0] : it.access[1]])
            items.append((it.class_id, bytes(it.obis), it.attribute_id, it.selector, p))
        self.list_items = items
        self.pump.start(self._list_gen(sess, items, self.pump.w))
        inv = req.invoke_id_and_priority
        return self._first_reply(sess, w, inv, 3)

    def _list_gen(self, sess, items, w):
        # SEQUENCE OF Get-Data-Result: the count, then 00 Data or 01 result
        w.length(len(items))
        yield
        for cid, ln, attr, sel, params in items:
            g = self._resolve_get(sess, cid, ln, attr, sel, params and memoryview(params), w)
            if isinstance(g, int):
                w.u8(1)
                w.u8(g)
                yield
                continue
            w.u8(0)
            for _ in g:
                yield
            yield

    # ---- SET ----
    def _set_one(self, sess, cid, ln, attr, selector, value):
        i, dar = self.model.lookup(cid, ln)
        if dar:
            return dar
        try:
            return self.model.set(sess, i, attr, selector or None, value)
        except Exception as e:
            self._event("set-failed", repr(e))
            return m.HARDWARE_FAULT

    def _set(self, sess, req, apdu, w):
        if not sess.conformance & initiate.SET:
            return self._exception(w, xdlms.SERVICE_NOT_ALLOWED, xdlms.SERVICE_NOT_SUPPORTED)
        c = req.choice
        inv = req.invoke_id_and_priority
        if c == xdlms.SET_NORMAL:
            v = apdu[req.value[0] : req.value[1]]
            xdlms.set_response_normal(w, inv, self._set_one(sess, req.class_id, req.obis, req.attribute_id, req.selector, v))
            return w.pos
        if c == xdlms.SET_WITH_LIST:
            if not sess.conformance & initiate.MULTIPLE_REFERENCES or req.count > _LIST_MAX:
                return self._exception(w, xdlms.SERVICE_NOT_ALLOWED, xdlms.SERVICE_NOT_SUPPORTED)
            results = []
            for it in req.items(apdu):
                v = apdu[it.value[0] : it.value[1]]
                results.append(self._set_one(sess, it.class_id, it.obis, it.attribute_id, it.selector, v))
            xdlms.set_response_with_list(w, inv, results)
            return w.pos
        if not sess.conformance & initiate.BLOCK_TRANSFER_WITH_SET_OR_WRITE:
            return self._exception(w, xdlms.SERVICE_NOT_ALLOWED, xdlms.SERVICE_NOT_SUPPORTED)
        if c == xdlms.SET_WITH_FIRST_DATABLOCK or c == xdlms.SET_WITH_LIST_AND_FIRST_DATABLOCK:
            if c == xdlms.SET_WITH_FIRST_DATABLOCK:
                target = (req.class_id, bytes(req.obis), req.attribute_id, req.selector)
            else:
                if req.count > _LIST_MAX:
                    return self._exception(w, xdlms.SERVICE_NOT_ALLOWED, xdlms.SERVICE_NOT_SUPPORTED)
                target = [(it.class_id, bytes(it.obis), it.attribute_id, it.selector) for it in req.items(apdu)]
            if req.block_number != 1:
                sess.set_block = 0
                xdlms.set_response_last_datablock(w, inv, m.DATA_BLOCK_NUMBER_INVALID, req.block_number)
                return w.pos
            sess.set_target = target
            sess.set_len = 0
            sess.set_block = 0
        elif c == xdlms.SET_WITH_DATABLOCK:
            if not sess.set_block:
                xdlms.set_response_last_datablock(w, inv, m.NO_LONG_SET_IN_PROGRESS, req.block_number)
                return w.pos
            if req.block_number != sess.set_block + 1:
                sess.set_block = 0
                xdlms.set_response_last_datablock(w, inv, m.DATA_BLOCK_NUMBER_INVALID, req.block_number)
                return w.pos
        else:
            return self._exception(w, xdlms.SERVICE_NOT_ALLOWED, xdlms.SERVICE_NOT_SUPPORTED)
        a, b = req.raw
        n = b - a
        if sess.set_len + n > _SET_MAX:
            sess.set_block = 0
            xdlms.set_response_last_datablock(w, inv, m.LONG_SET_ABORTED, req.block_number)
            return w.pos
        self.set_buf[sess.set_len : sess.set_len + n] = apdu[a:b]
        sess.set_len += n
        sess.set_block = req.block_number
        if not req.last_block:
            xdlms.set_response_datablock(w, inv, req.block_number)
            return w.pos
        sess.set_block = 0
        value = memoryview(self.set_buf)[: sess.set_len]
        target = sess.set_target
        sess.set_target = None
        if isinstance(target, tuple):
            r = self._set_assembled(sess, target, value)
            xdlms.set_response_last_datablock(w, inv, r, req.block_number)
            return w.pos
        results = self._set_assembled_list(sess, target, value)
        if results is None:
            xdlms.set_response_last_datablock(w, inv, m.TYPE_UNMATCHED, req.block_number)
        else:
            xdlms.set_response_last_datablock_with_list(w, inv, results, req.block_number)
        return w.pos

    def _set_assembled(self, sess, target, value):
        r = axdr.Reader(value)
        try:
            s, e = r.skip()
        except axdr.AxdrError:
            return m.TYPE_UNMATCHED
        if e != len(value):
            return m.TYPE_UNMATCHED
        cid, ln, attr, sel = target
        return self._set_one(sess, cid, ln, attr, sel, value)

    def _set_assembled_list(self, sess, targets, value):
        r = axdr.Reader(value)
        try:
            if r.length() != len(targets):
                return None
            spans = [r.skip() for _ in targets]
        except axdr.AxdrError:
            return None
        if r.pos != len(value):
            return None
        return [self._set_one(sess, t[0], t[1], t[2], t[3], value[s:e]) for t, (s, e) in zip(targets, spans)]

    # ---- ACTION ----
    def _action_one(self, sess, cid, ln, method, params, scratch):
        i, dar = self.model.lookup(cid, ln)
        if dar:
            return dar, False
        try:
            return self.model.action(sess, i, method, params, scratch)
        except Exception as e:
            self._event("action-failed", repr(e))
            return m.HARDWARE_FAULT, False

    def _action(self, sess, req, apdu, w):
        if not sess.conformance & initiate.ACTION:
            return self._exception(w, xdlms.SERVICE_NOT_ALLOWED, xdlms.SERVICE_NOT_SUPPORTED)
        inv = req.invoke_id_and_priority
        scratch = self.pump.w
        if req.choice == xdlms.ACTION_NORMAL:
            params = apdu[req.value[0] : req.value[1]] if req.value is not None else None
            scratch.pos = 0
            res, data = self._action_one(sess, req.class_id, req.obis, req.method_id, params, scratch)
            xdlms.action_response_normal(w, inv, res, data)
            if data:
                self._copy(w, scratch)
            return w.pos
        if req.choice == xdlms.ACTION_WITH_LIST and sess.conformance & initiate.MULTIPLE_REFERENCES:
            if req.count > _LIST_MAX:
                return self._exception(w, xdlms.SERVICE_NOT_ALLOWED, xdlms.SERVICE_NOT_SUPPORTED)
            xdlms.action_response_with_list_header(w, inv, req.count)
            for it in req.items(apdu):
                params = apdu[it.value[0] : it.value[1]] if it.value is not None else None
                scratch.pos = 0
                res, data = self._action_one(sess, it.class_id, it.obis, it.method_id, params, scratch)
                xdlms.action_result(w, res, data)
                if data:
                    self._copy(w, scratch)
            return w.pos
        # Parameter blocks are not implemented (and not granted in the conformance).
        return self._exception(w, xdlms.SERVICE_NOT_ALLOWED, xdlms.SERVICE_NOT_SUPPORTED)

    def _copy(self, w, scratch):
        n = scratch.pos
        if w.pos + n > w.end:
            raise axdr.BufferFull()
        w.buf[w.pos : w.pos + n] = scratch.buf[:n]
        w.pos += n


def _lensize(n):
    return 1 if n < 0x80 else 2 if n < 0x100 else 3
