"""HDLC client (primary station) state machine, sans-io: SNRM/UA, I-frames with LLC, RR polls, segmentation both ways, DISC (IEC 62056-46 clause 6.4)."""
# The module reads its meter this way over the internal connector, and will
# read bus devices the same way. Shares segmentation, reassembly and the
# frame buffer with the server in hdlc_link; the events and states are the
# ones defined there. The caller owns time: when no answer came within its
# time-out it calls retransmit(), which repeats the last frame, or polls
# with RR once the last I-frame is known to have arrived.
from firmware.dlms import hdlc
from firmware.dlms.hdlc_link import (
    APDU,
    CONNECTED,
    CONNECTING,
    DISCONNECTED,
    DISCONNECTING,
    ERROR,
    NDM,
    NONE,
    NRM,
    TOO_LONG,
    _Station,
)


def server_address_len(logical, physical):
    """The shortest server address field for (upper, lower): 1, 2 or 4 bytes."""
    if physical is None:
        return 1
    return 2 if logical < 0x80 and physical < 0x80 else 4


class HdlcClient(_Station):
    """client: our SAP (1 byte); logical/physical: the server's upper and lower
    HDLC addresses (physical None: 1-byte addressing, as on a point-to-point
    link); address_len forces 2 or 4 bytes. The limits are proposed in SNRM;
    the server's UA decides."""

    def __init__(self, client=0x10, logical=1, physical=None, address_len=None, max_info_tx=128, max_info_rx=128,
                 window_rx=1, max_apdu=1024):
        _Station.__init__(self, max_info_tx, max_info_rx, window_rx, max_apdu)
        n = address_len or server_address_len(logical, physical)
        self._dst = hdlc.join_address(logical, physical or 0, n)
        self._dst_len = n
        self._src = client
        self._acked = True  # nothing unanswered of ours is outstanding: retransmit() polls
        self.error = None  # why the last ERROR happened
        self.frmr = None  # the information field of an FRMR received

    @property
    def connected(self):
        return self.state == NRM

    def connect(self, client=None):
        """SNRM (with our limits where they differ from the defaults); returns `out`."""
        if client is not None:
            if not 0 <= client <= 0x7F:
                raise ValueError("client SAP")
            self._src = client
        self._reset_link(hdlc.DEFAULT_PARAMS)
        self.state = CONNECTING
        self._acked = False
        self.error = None
        self.frmr = None
        p = (self.cap_tx, self.cap_rx, 1, self.cap_window_rx)
        self._sent(hdlc.encode_snrm(self._frame, self._dst, self._src, p, self._dst_len, 1))
        return self.out

    def disconnect(self):
        """DISC; returns `out`. UA or DM completes it (DISCONNECTED)."""
        self.state = DISCONNECTING
        self._acked = False
        self._sent(hdlc.encode_disc(self._frame, self._dst, self._src, self._dst_len, 1))
        return self.out

    def send(self, data):
        """Starts sending an APDU (bytes, or an int: that many bytes already in
        apdu_buffer()); returns `out`, its first frame. The reply is collected
        from receive() until APDU."""
        if self.state != NRM:
            raise hdlc.HdlcError("not connected")
        self._load(data, hdlc.LLC_REQUEST)
        if not self._tn:
            raise ValueError("empty APDU")
        self._rn = 0
        self._over = False
        self._acked = False
        self.apdu = None
        self._i_frame()
        return self.out

    def retransmit(self):
        """After a time-out: the last frame again, or an RR poll if the server
        has acknowledged our last I-frame and owes us its answer; returns `out`."""
        self.retransmits += 1
        if self.state == NRM and self._acked:
            self._rr()
        else:
            self._sent(self._fn)
        return self.out

    def _fail(self, why):
        self.state = NDM
        self.error = why
        return ERROR

    def receive(self, f):
        """Take one decoded frame; returns an event (hdlc_link constants)."""
        self.out = None
        if f.dst_len != 1 or f.dst != self._src or f.src_len != self._dst_len or f.src != self._dst:
            self.ignored += 1
            return NONE
        self.frames_in += 1
        k = f.kind
        st = self.state
        if st == CONNECTING:
            if k == hdlc.UA:
                return self._ua(f)
            if k == hdlc.DM:
                self.state = NDM
                return DISCONNECTED
        elif st == DISCONNECTING:
            if k == hdlc.UA or k == hdlc.DM:
                self.state = NDM
                self._reset_link(hdlc.DEFAULT_PARAMS)
                return DISCONNECTED
        elif st == NRM:
            if k == hdlc.I_FRAME:
                return self._iframe(f)
            if k == hdlc.RR or k == hdlc.RNR:
                return self._rr_in(f)
            if k == hdlc.DM:
                self.state = NDM
                return DISCONNECTED
            if k == hdlc.FRMR:
                self.frmr = bytes(f.info) if f.info is not None else b""
                return self._fail("FRMR")
        self.ignored += 1
        return NONE

    def _ua(self, f):
        try:
            stx, srx, swtx, swrx = hdlc.parse_params(f.info)
        except hdlc.HdlcError:
            return self._fail("UA parameters")
        # The UA states the server's view: its receive length is our transmit one.
        tx = min(srx, self.cap_tx)
        if tx < 1 or swrx < 1:
            return self._fail("UA parameters")
        self._reset_link((tx, min(stx, self.cap_rx), 1, max(1, min(swtx, self.cap_window_rx))))
        self.state = NRM
        self._acked = True
        return CONNECTED

    def _iframe(self, f):
        if f.ns != self.vr:
            self.seq_errors += 1
            if self._got_i and f.ns == (self.vr - 1) & 7:
                return NONE  # a repeat of what we already have
            # Out of sequence: tell the server what we expect.
            return self._rr() if f.pf else NONE
        if f.nr != self.vs:
            return self._fail("N(R)")
        self._unacked = False
        self._acked = True
        self._take(f.info)
        if f.segmented:
            return self._rr() if f.pf else NONE
        ev = self._complete(hdlc.LLC_RESPONSE)
        if ev == TOO_LONG:
            return self._fail("APDU too long")
        if ev == NONE:
            return self._fail("LLC")
        return APDU

    def _rr_in(self, f):
        nr = f.nr
        if nr == self.vs:
            self._unacked = False
            if self._tp < self._tn and f.kind == hdlc.RR:
                return self._i_frame()  # the next segment of our request
            # Acknowledged; an RNR, or a server with nothing yet: poll later.
            self._acked = True
            return NONE
        if self._unacked and nr == (self.vs - 1) & 7:
            if f.kind == hdlc.RNR:
                return NONE
            return self._again()  # our last segment was lost
        return self._fail("N(R)")
