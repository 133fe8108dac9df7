"""HDLC connection state machines, sans-io, server (secondary) and client (primary): IEC 62056-46 clause 6.4 (NRM, SNRM/UA negotiation, window 1, segmentation) with the clause 5 LLC header."""
# Frames come in decoded (hdlc.Deframer), bytes go out in `out`, a view of
# one preallocated frame buffer that the next call reuses. Timing belongs to
# the caller: the server's inactivity time-out calls reset(), a client that
# saw no answer in its time-out calls retransmit().
#
# Both stations work in window 1 when sending: one I-frame with P/F set per
# turn, the next one after the peer's RR. An APDU longer than the negotiated
# maximum information field goes in segments with the frame format's S bit
# set on all but the last; the 3-byte LLC header (E6 E6 00 towards the
# server, E6 E7 00 back) is part of the information field and travels in the
# first segment only. Receiving, any window the peer keeps to is accepted:
# I-frames in sequence are collected, and the turn is answered (RR) only when
# a frame has P/F set.
#
# Sequence errors, as HDLC's NRM procedures handle them (ISO/IEC 13239, which
# IEC 62056-46 selects from):
# - a repeat of the last I-frame received (N(S) = V(R) - 1: our answer was
#   lost and the peer sent its frame again) is answered again: the server
#   rebuilds its last unacknowledged I-frame, or repeats its RR;
# - a poll whose N(R) is one behind V(S) says our last I-frame was lost: it
#   is sent again (checkpoint retransmission);
# - any other N(S) is discarded and answered with RR N(R) = V(R), so that the
#   peer can see what is expected;
# - an N(R) that acknowledges a frame never sent, an unknown or misplaced
#   control field, or an information field longer than negotiated puts the
#   server in the frame-reject condition: FRMR (ISO/IEC 13239 information
#   field: rejected control, V(S)/V(R), W X Y Z bits), repeated to every poll
#   until SNRM or DISC. A client treats FRMR as a broken link.
from firmware.compat import const
from firmware.dlms import hdlc

# Events of receive()
NONE = const(0)  # nothing to send
SEND = const(1)  # send `out`
APDU = const(2)  # a whole APDU is in `apdu` (server: answer it with reply())
CONNECTED = const(3)  # server: SNRM accepted, UA in `out`; client: UA received
DISCONNECTED = const(4)  # server: DISC accepted, UA in `out`; client: UA/DM to DISC, or DM
TOO_LONG = const(5)  # server: a request longer than max_apdu was dropped; reply() an error
ERROR = const(6)  # client: FRMR or a protocol error; the link is down (state NDM)

# States
NDM = const(0)  # normal disconnected mode
CONNECTING = const(1)  # client: SNRM sent
NRM = const(2)  # normal response mode: connected
DISCONNECTING = const(3)  # client: DISC sent
REJECTED = const(4)  # server: frame-reject condition

MIN_INFO = const(32)  # smallest max_info_field_length (HDLC setup, class 23)

# FRMR reason bits (ISO/IEC 13239 frame reject information field, octet 3)
FRMR_W = const(0x01)  # control field undefined or not implemented
FRMR_X = const(0x02)  # information field not allowed with this control field
FRMR_Y = const(0x04)  # information field longer than negotiated
FRMR_Z = const(0x08)  # invalid N(R)

_MAX_WINDOW = const(7)


class _Station:
    """What both ends share: sequence variables, the outgoing APDU cut into
    segments, the incoming one reassembled, and the one frame buffer."""

    def __init__(self, max_info_tx, max_info_rx, window_rx, max_apdu):
        if max_info_tx < MIN_INFO or max_info_rx < MIN_INFO or not 1 <= window_rx <= _MAX_WINDOW:
            raise ValueError("HDLC parameters")
        self.cap_tx = max_info_tx
        self.cap_rx = max_info_rx
        self.cap_window_rx = window_rx
        self._frame = bytearray(max_info_tx + hdlc.MAX_OVERHEAD)
        self._fmv = memoryview(self._frame)
        self._fn = 0
        self._tx = bytearray(3 + max_apdu)  # the APDU being sent, LLC first
        self._tmv = memoryview(self._tx)
        self._rx = bytearray(3 + max_apdu)  # the APDU being received, LLC first
        self._rmv = memoryview(self._rx)
        self._dst = 0
        self._dst_len = 1
        self._src = 0
        self._src_len = 1
        self.state = NDM
        self.out = None
        self.apdu = None
        self.frames_in = 0
        self.ignored = 0  # frames for other addresses or out of place
        self.seq_errors = 0
        self.retransmits = 0
        self._reset_link(hdlc.DEFAULT_PARAMS)

    def _reset_link(self, params):
        self.max_info_tx, self.max_info_rx, self.window_tx, self.window_rx = params
        self.vs = 0  # V(S): N(S) of the next I-frame sent
        self.vr = 0  # V(R): N(S) expected next
        self._unacked = False  # our last I-frame is not acknowledged yet
        self._got_i = False  # an I-frame arrived since the link was set up
        self._tn = 0  # APDU bytes (with LLC) to send
        self._tp = 0  # next of them to send
        self._tp_prev = 0  # where the last I-frame sent started
        self._rn = 0  # bytes reassembled
        self._over = False
        self.apdu = None

    def max_frame(self):
        """The longest frame this end accepts: the Deframer's max_frame."""
        return self.cap_rx + hdlc.MAX_OVERHEAD

    def _sent(self, n):
        self._fn = n
        self.out = self._fmv[:n]
        return SEND

    def _i_frame(self):
        tp = self._tp
        k = min(self.max_info_tx, self._tn - tp)
        n = hdlc.encode_i(self._frame, self._dst, self._src, self.vs, self.vr, self._tmv[tp : tp + k], True,
                          tp + k < self._tn, self._dst_len, self._src_len)
        self._tp_prev = tp
        self._tp = tp + k
        self.vs = (self.vs + 1) & 7
        self._unacked = True
        return self._sent(n)

    def _again(self):
        # Go back one I-frame and build it anew (same N(S), current N(R)).
        self.retransmits += 1
        self._tp = self._tp_prev
        self.vs = (self.vs - 1) & 7
        return self._i_frame()

    def _rr(self):
        return self._sent(hdlc.encode_rr(self._frame, self._dst, self._src, self.vr, True, self._dst_len, self._src_len))

    def _nr_ok(self, nr):
        return nr == self.vs or (self._unacked and nr == (self.vs - 1) & 7)

    def _take(self, info):
        # Append an I-frame's information field to the APDU being reassembled.
        self.vr = (self.vr + 1) & 7
        self._got_i = True
        if info is None:
            return
        n = len(info)
        p = self._rn
        if p + n > len(self._rx):
            self._over = True
            return
        self._rmv[p : p + n] = info
        self._rn = p + n

    def _complete(self, llc):
        # The last segment arrived: APDU, TOO_LONG, or NONE for a missing LLC.
        n = self._rn
        self._rn = 0
        if self._over:
            self._over = False
            return TOO_LONG
        rx = self._rx
        if n < 3 or rx[0] != llc[0] or rx[1] != llc[1] or rx[2] != llc[2]:
            self.seq_errors += 1
            return NONE
        self.apdu = self._rmv[3:n]
        return APDU

    def _load(self, data, llc):
        # The APDU to send next: data bytes, or an int: that many bytes already
        # written into apdu_buffer().
        if isinstance(data, int):
            n = data
        else:
            n = len(data)
            if n > len(self._tx) - 3:
                raise ValueError("APDU too long")
            self._tmv[3 : 3 + n] = data
        if not 0 <= n <= len(self._tx) - 3:
            raise ValueError("APDU too long")
        self._tx[0:3] = llc
        self._tn = n + 3 if n else 0
        self._tp = 0

    def apdu_buffer(self):
        """Where an APDU to send may be written in place (then send(n) / reply(n) with its length)."""
        return self._tmv[3:]


class HdlcServer(_Station):
    """The secondary station: the module on the RS-485 bus, or any HDLC server.
    logical: the upper HDLC address it answers; physical: its lower address
    (None: any, and 1-byte addressing). Limits are its own; a client gets the
    smaller of its proposal and these."""

    def __init__(self, logical=1, physical=None, max_info_tx=128, max_info_rx=128, window_rx=1, max_apdu=1024):
        _Station.__init__(self, max_info_tx, max_info_rx, window_rx, max_apdu)
        self.logical = logical
        self.physical = physical
        self._finfo = bytearray(3)
        self._poll = False  # the request's last frame had P set: reply() answers it
        self.client = None  # SAP of the connected client

    @property
    def connected(self):
        return self.state == NRM or self.state == REJECTED

    def reset(self):
        """Drop the link without a word (inactivity time-out, or the session ended)."""
        self.state = NDM
        self.client = None
        self._reset_link(hdlc.DEFAULT_PARAMS)

    def _mine(self, f):
        if f.src_len != 1:
            return False
        up, low = hdlc.split_address(f.dst, f.dst_len)
        if up != self.logical:
            return False
        return low is None or self.physical is None or low == self.physical

    def receive(self, f):
        """Take one decoded frame; returns an event (module constants)."""
        self.out = None
        if not self._mine(f):
            self.ignored += 1
            return NONE
        self.frames_in += 1
        k = f.kind
        if k == hdlc.SNRM:
            return self._snrm(f)
        if self.state == NDM:
            # Not connected: DM answers any poll (and DISC, which always polls).
            if f.pf:
                return self._sent(hdlc.encode_dm(self._frame, f.src, f.dst, 1, f.dst_len))
            return NONE
        if f.src != self._dst:
            self.ignored += 1  # another client while one is connected
            return NONE
        if k == hdlc.DISC:
            self.reset()
            self._sent(hdlc.encode_ua(self._frame, f.src, f.dst, None, 1, f.dst_len))
            return DISCONNECTED
        if self.state == REJECTED:
            return self._sent(self._fn) if f.pf else NONE
        if k == hdlc.I_FRAME:
            return self._iframe(f)
        if k == hdlc.RR or k == hdlc.RNR:
            if f.info is not None:
                return self._reject(f, FRMR_W | FRMR_X)
            return self._rr_in(f)
        if k == hdlc.UI:
            self.ignored += 1  # no event reporting towards this server
            return NONE
        return self._reject(f, FRMR_W)

    def _snrm(self, f):
        try:
            ctx, crx, cwtx, cwrx = hdlc.parse_params(f.info)
        except hdlc.HdlcError:
            ctx = crx = cwtx = cwrx = 0
        # The client's transmit length is our receive length and the other way
        # round; each side gets the smaller of the proposal and our limit.
        tx = min(crx, self.cap_tx)
        rx = min(ctx, self.cap_rx)
        if tx < MIN_INFO or rx < MIN_INFO or cwtx < 1 or cwrx < 1:
            # Parameters we cannot work with: stay (or fall) disconnected.
            self.reset()
            return self._sent(hdlc.encode_dm(self._frame, f.src, f.dst, 1, f.dst_len))
        self._dst = f.src
        self._src = f.dst
        self._src_len = f.dst_len
        self.client = f.src
        self._poll = False
        self._reset_link((tx, rx, 1, min(cwtx, self.cap_window_rx)))
        self.state = NRM
        self._sent(hdlc.encode_ua(self._frame, f.src, f.dst, (tx, rx, 1, self.window_rx), 1, f.dst_len))
        return CONNECTED

    def _reject(self, f, bits):
        self.state = REJECTED
        b = self._finfo
        b[0] = f.control
        b[1] = self.vr << 5 | self.vs << 1  # C/R bit 0: the rejected frame was a command
        b[2] = bits
        return self._sent(hdlc.encode_frmr(self._frame, self._dst, self._src, b, 1, self._src_len))

    def _iframe(self, f):
        if not self._nr_ok(f.nr):
            return self._reject(f, FRMR_Z)
        if f.ns != self.vr:
            self.seq_errors += 1
            if not f.pf:
                return NONE
            if self._got_i and f.ns == (self.vr - 1) & 7:
                # A repeat: the peer missed our answer to it.
                if self._unacked:
                    return self._again()
                self.retransmits += 1
            return self._rr()
        if f.info is not None and len(f.info) > self.max_info_rx:
            return self._reject(f, FRMR_Y)
        self._unacked = False
        if not self._rn:
            self._tn = self._tp = 0  # a new request: what is left of the last reply is dropped
        self._take(f.info)
        if f.segmented:
            return self._rr() if f.pf else NONE
        self._poll = f.pf
        ev = self._complete(hdlc.LLC_REQUEST)
        if ev == NONE and f.pf:
            self._poll = False
            return self._rr()
        return ev

    def _rr_in(self, f):
        nr = f.nr
        if not self._nr_ok(nr):
            return self._reject(f, FRMR_Z)
        if nr != self.vs:
            return self._again() if f.pf else NONE
        self._unacked = False
        if not f.pf:
            return NONE
        if f.kind == hdlc.RNR or self._tp >= self._tn:
            # RNR: the client cannot take an I-frame now; it polls again later.
            return self._rr()
        return self._i_frame()

    def reply_buffer(self):
        """Where the server writes its reply to `apdu` (len: the largest APDU)."""
        return self._tmv[3:]

    def reply(self, n):
        """The reply of n bytes written into reply_buffer() (0: none) goes out:
        returns `out`, its first frame (or an RR), or None if the request's last
        frame did not poll: the next RR sends it then."""
        self.apdu = None
        self._load(n, hdlc.LLC_RESPONSE)
        self.out = None
        if not self._poll or self.state != NRM:
            return None
        self._poll = False
        if self._tn:
            self._i_frame()
        else:
            self._rr()
        return self.out
