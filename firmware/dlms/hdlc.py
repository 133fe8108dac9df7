"""HDLC frames for DLMS/COSEM: IEC 62056-46 clause 6 (MAC sub-layer, frame format type 3), clause 5 LLC header."""
from firmware.compat import const
from firmware.crc16 import crc16_x25

FLAG = 0x7E

# Frame kinds: the control byte without N(S), N(R) and P/F. decode() also reports
# other kinds (REJ 0x09, unknown U frames): the state machine answers them with FRMR.
I_FRAME = 0x00
RR = 0x01
RNR = 0x05
UI = 0x03
DM = 0x0F
DISC = 0x43
UA = 0x63
SNRM = 0x83
FRMR = 0x87

# LSAPs and quality byte that start every I and UI information field.
LLC_REQUEST = b"\xe6\xe6\x00"
LLC_RESPONSE = b"\xe6\xe7\x00"

# (max_info_tx, max_info_rx, window_tx, window_rx) when SNRM/UA leave them out.
DEFAULT_PARAMS = (128, 128, 1, 1)
# Flags, format, two 4-byte addresses, control, HCS, FCS: frame size = max info + this.
MAX_OVERHEAD = 17

_PF = const(0x10)
_SEG = const(0x08)
_MAX_LEN = const(0x7FF)  # 11-bit frame length: bytes between the flags
_HDR_MAX = const(14)  # flag, format, 4 + 4 address bytes, control, HCS
_FORMAT_ID = const(0x81)
_GROUP_ID = const(0x80)


class HdlcError(ValueError):
    pass


class Frame:
    """A decoded frame. dst/src join the 7-bit groups of an address field, upper
    first (logical << 7 | physical in 2 bytes, << 14 in 4), with the field length in
    dst_len/src_len. info (None if absent) and raw are views of the decoded bytes."""

    def __init__(self):
        self.dst = 0
        self.dst_len = 1
        self.src = 0
        self.src_len = 1
        self.control = 0
        self.kind = 0
        self.ns = None
        self.nr = None
        self.pf = False
        self.segmented = False
        self.info = None
        self.raw = None


def join_address(upper, lower, n):
    """Address value for an n-byte field; n == 1 carries the upper address only."""
    if n == 1:
        return upper
    b = 7 if n == 2 else 14
    if n not in (2, 4) or not (0 <= lower < 1 << b):
        raise HdlcError("bad address")
    return upper << b | lower


def split_address(value, n):
    """(upper, lower) of an n-byte address value; lower is None for 1 byte."""
    if n == 1:
        return value, None
    b = 7 if n == 2 else 14
    return value >> b, value & ((1 << b) - 1)


def _addr_len(buf, p, end):
    # The extension bit (bit 0) ends the field; only 1, 2 and 4 bytes exist.
    for i in range(4):
        if p + i >= end:
            return 0
        if buf[p + i] & 1:
            return 0 if i == 2 else i + 1
    return 0


def _addr_value(buf, p, n):
    v = 0
    for i in range(p, p + n):
        v = v << 7 | buf[i] >> 1
    return v


def _put_address(buf, p, v, n):
    if n not in (1, 2, 4) or not (0 <= v < 1 << (7 * n)):
        raise HdlcError("bad address")
    for i in range(n):
        buf[p + i] = ((v >> (7 * (n - 1 - i))) & 0x7F) << 1
    buf[p + n - 1] |= 1
    return p + n


def _control(f, c):
    f.control = c
    f.pf = bool(c & _PF)
    if not c & 1:
        f.kind = I_FRAME
        f.ns = (c >> 1) & 7
        f.nr = c >> 5
    elif c & 3 == 1:
        f.kind = c & 0x0F
        f.ns = None
        f.nr = c >> 5
    else:
        f.kind = c & 0xEF
        f.ns = None
        f.nr = None


def _head(buf, end):
    # Control byte index of the header of a frame whose FCS is at buf[end];
    # 0 if its addresses, length or HCS (present iff information follows) are bad.
    dl = _addr_len(buf, 3, end)
    sl = _addr_len(buf, 3 + dl, end) if dl else 0
    c = 3 + dl + sl
    rest = end - c - 1
    if not sl or rest < 0 or 0 < rest < 3:
        return 0
    if rest and crc16_x25(buf, 1, c + 1) != buf[c + 1] | buf[c + 2] << 8:
        return 0
    return c


def decode(data, frame=None):
    """Decodes one frame, flag to flag, into frame (a new Frame if None); HdlcError if invalid."""
    mv = memoryview(data)
    n = len(mv)
    if n < 9 or mv[0] != FLAG or mv[n - 1] != FLAG:
        raise HdlcError("no frame")
    f0 = mv[1]
    if f0 & 0xF0 != 0xA0:
        raise HdlcError("format")
    if ((f0 & 7) << 8 | mv[2]) != n - 2:
        raise HdlcError("length")
    end = n - 3  # FCS position
    c = _head(mv, end)
    if not c:
        raise HdlcError("header")
    if crc16_x25(mv, 1, end) != mv[end] | mv[end + 1] << 8:
        raise HdlcError("FCS")
    dl = _addr_len(mv, 3, end)
    sl = c - 3 - dl
    f = frame if frame is not None else Frame()
    f.dst = _addr_value(mv, 3, dl)
    f.dst_len = dl
    f.src = _addr_value(mv, 3 + dl, sl)
    f.src_len = sl
    f.segmented = bool(f0 & _SEG)
    _control(f, mv[c])
    f.info = mv[c + 3 : end] if end > c + 1 else None
    f.raw = mv
    return f


def info_offset(dst_len=1, src_len=1):
    """Where the information field starts in an encoded frame (to build it in place)."""
    return 3 + dst_len + src_len + 1 + 2


def encode_frame(buf, dst, src, control, info=None, segmented=False, dst_len=1, src_len=1):
    """Writes a frame, flags included, at buf[0:]; returns its length. info is
    bytes-like, or an int: that many bytes already at info_offset() (no copy)."""
    c = 3 + dst_len + src_len
    if info is None:
        ni = 0
    elif isinstance(info, int):
        ni = info
    else:
        ni = len(info)
    if ni < 0 or not 0 <= control <= 0xFF:
        raise HdlcError("bad field")
    if c + 4 + (ni + 2 if ni else 0) > len(buf):
        raise HdlcError("buffer too small")
    _put_address(buf, 3, dst, dst_len)
    _put_address(buf, 3 + dst_len, src, src_len)
    buf[c] = control
    if ni and not isinstance(info, int):
        buf[c + 3 : c + 3 + ni] = info
    return _finish(buf, c + 1, ni, segmented)


def _finish(buf, p, ni, segmented):
    # p: index just past the control byte; ni information bytes sit at p + 2.
    ln = p + 1 + (ni + 2 if ni else 0)
    if ln > _MAX_LEN:
        raise HdlcError("frame too long")
    buf[0] = FLAG
    buf[1] = 0xA0 | (_SEG if segmented else 0) | ln >> 8
    buf[2] = ln & 0xFF
    if ni:
        h = crc16_x25(buf, 1, p)
        buf[p] = h & 0xFF
        buf[p + 1] = h >> 8
    h = crc16_x25(buf, 1, ln - 1)
    buf[ln - 1] = h & 0xFF
    buf[ln] = h >> 8
    buf[ln + 1] = FLAG
    return ln + 2


def _seq(v):
    if not 0 <= v <= 7:
        raise HdlcError("bad sequence number")
    return v


def encode_i(buf, dst, src, ns, nr, info, pf=True, segmented=False, dst_len=1, src_len=1):
    c = _seq(nr) << 5 | (_PF if pf else 0) | _seq(ns) << 1
    return encode_frame(buf, dst, src, c, info, segmented, dst_len, src_len)


def encode_rr(buf, dst, src, nr, pf=True, dst_len=1, src_len=1):
    return encode_frame(buf, dst, src, _seq(nr) << 5 | (_PF if pf else 0) | RR, None, False, dst_len, src_len)


def encode_rnr(buf, dst, src, nr, pf=True, dst_len=1, src_len=1):
    return encode_frame(buf, dst, src, _seq(nr) << 5 | (_PF if pf else 0) | RNR, None, False, dst_len, src_len)


def encode_ui(buf, dst, src, info, pf=True, segmented=False, dst_len=1, src_len=1):
    return encode_frame(buf, dst, src, UI | (_PF if pf else 0), info, segmented, dst_len, src_len)


def encode_disc(buf, dst, src, dst_len=1, src_len=1):
    return encode_frame(buf, dst, src, DISC | _PF, None, False, dst_len, src_len)


def encode_dm(buf, dst, src, dst_len=1, src_len=1):
    return encode_frame(buf, dst, src, DM | _PF, None, False, dst_len, src_len)


def encode_frmr(buf, dst, src, info=None, dst_len=1, src_len=1):
    return encode_frame(buf, dst, src, FRMR | _PF, info, False, dst_len, src_len)


def encode_snrm(buf, dst, src, params=None, dst_len=1, src_len=1):
    """SNRM proposing params; like Gurux, only values that differ from the defaults."""
    return _with_params(buf, dst, src, SNRM | _PF, params, True, dst_len, src_len)


def encode_ua(buf, dst, src, params=None, dst_len=1, src_len=1):
    """UA; with params it states all four negotiated values, as meters do."""
    return _with_params(buf, dst, src, UA | _PF, params, False, dst_len, src_len)


def _with_params(buf, dst, src, control, params, skip_defaults, dst_len, src_len):
    ni = 0
    if params is not None:
        off = info_offset(dst_len, src_len)
        ni = encode_params(buf, off, params, skip_defaults) - off
    return encode_frame(buf, dst, src, control, ni, False, dst_len, src_len)


def _width(v, window):
    # Gurux and the meters in the examples: windows in 4 bytes, lengths in 1 or 2.
    if window or v > 0xFFFF:
        return 4
    return 1 if v < 0x100 else 2


def encode_params(buf, off, params, skip_defaults=False):
    """Writes the SNRM/UA parameter field (81 80 len, then id len value); returns the end offset."""
    size = 0
    for i in range(4):
        v = params[i]
        if not 0 <= v <= 0xFFFFFFFF:
            raise HdlcError("bad parameter")
        if not (skip_defaults and v == DEFAULT_PARAMS[i]):
            size += 2 + _width(v, i > 1)
    if not size:
        return off
    if off + 3 + size > len(buf):
        raise HdlcError("buffer too small")
    buf[off] = _FORMAT_ID
    buf[off + 1] = _GROUP_ID
    buf[off + 2] = size
    p = off + 3
    for i in range(4):
        v = params[i]
        if skip_defaults and v == DEFAULT_PARAMS[i]:
            continue
        w = _width(v, i > 1)
        buf[p] = 5 + i
        buf[p + 1] = w
        for j in range(w):
            buf[p + 2 + j] = (v >> (8 * (w - 1 - j))) & 0xFF
        p += 2 + w
    return p


def parse_params(info):
    """(max_info_tx, max_info_rx, window_tx, window_rx) of an SNRM/UA information field
    (None: defaults) as the sender states them: its tx is our rx. Unknown
    parameters and groups are skipped; values may be 1 to 4 bytes."""
    if info is None:
        return DEFAULT_PARAMS
    n = len(info)
    if n < 1 or info[0] != _FORMAT_ID:
        raise HdlcError("parameter format")
    vals = list(DEFAULT_PARAMS)
    p = 1
    while p < n:
        if p + 2 > n:
            raise HdlcError("parameter group")
        gid = info[p]
        gend = p + 2 + info[p + 1]
        if gend > n:
            raise HdlcError("parameter group")
        p += 2
        if gid != _GROUP_ID:
            p = gend
        while p < gend:
            if p + 2 > gend:
                raise HdlcError("parameter")
            pid = info[p]
            w = info[p + 1]
            p += 2
            if p + w > gend:
                raise HdlcError("parameter")
            if 5 <= pid <= 8:
                if not 1 <= w <= 4:
                    raise HdlcError("parameter length")
                v = 0
                for j in range(w):
                    v = v << 8 | info[p + j]
                vals[pid - 5] = v
            p += w
    return tuple(vals)


class Deframer:
    """Sans-io UART byte stream to frames. Iterate feed(chunk) to its end: it yields
    self.frame, refilled for each valid frame; its views last until it resumes.
    Garbage and bad or too long frames are counted and dropped, never raised; the
    hunt restarts at the next flag already held, so a good frame right after a bad
    one survives. On an inter-octet timeout iterate flush()."""

    def __init__(self, max_frame):
        if not 9 <= max_frame <= _MAX_LEN + 2:
            raise HdlcError("bad max_frame")
        self._max = max_frame
        self._buf = bytearray(max_frame)
        self._mv = memoryview(self._buf)
        self._n = 0
        self._total = 0  # candidate length once its header checked out
        self._shared = False  # buf[0] is the previous frame's closing flag
        self.frame = Frame()
        self.frames = 0
        self.dropped_frames = 0
        self.dropped_bytes = 0

    def pending(self):
        """Bytes held that belong to no delivered frame yet."""
        return self._n - 1 if self._shared else self._n

    def reset(self):
        """Drops everything held, e.g. when the link is reset."""
        self._drop(self._n)

    def flush(self):
        """Gives up the frame being received; yields the complete frames held behind it."""
        while self.pending():
            if self._n > 1:
                self._reject()
            else:
                self._drop(1)
            yield from self.feed(b"")

    def _shift(self, k):
        buf = self._buf
        n = self._n - k
        for i in range(n):
            buf[i] = buf[i + k]
        self._n = n
        self._total = 0

    def _drop(self, k):
        # A shared flag was already counted with the frame it closed.
        if k:
            self.dropped_bytes += k - 1 if self._shared else k
            self._shared = False
        self._shift(k)

    def _reject(self):
        self.dropped_frames += 1
        buf = self._buf
        for i in range(1, self._n):
            if buf[i] == FLAG:
                self._drop(i)
                return
        self._drop(self._n)

    def _check(self):
        # > 0: bytes to hold before the next decision; 0: a whole candidate; -1: not a frame.
        buf = self._buf
        n = self._n
        t = self._total
        if not t:
            if n < 3:
                return 3
            f0 = buf[1]
            if f0 & 0xF0 != 0xA0:
                return -1
            t = ((f0 & 7) << 8 | buf[2]) + 2
            if t < 9 or t > self._max:
                return -1
            h = t if t < _HDR_MAX else _HDR_MAX
            if n < h:
                return h
            # Checking the HCS this early stops a garbage length from
            # holding back the good frames behind it.
            if not _head(buf, t - 3):
                return -1
            self._total = t
        return t if n < t else 0

    def feed(self, data):
        src = memoryview(data)
        pos = 0
        end = len(src)
        buf = self._buf
        while True:
            n = self._n
            if not n:
                p = pos
                while p < end and src[p] != FLAG:
                    p += 1
                self.dropped_bytes += p - pos
                if p == end:
                    return
                buf[0] = FLAG
                self._n = 1
                pos = p + 1
                continue
            if n > 1 and buf[1] == FLAG:
                self._drop(1)  # back-to-back flags: the later one opens the frame
                continue
            need = self._check()
            if need < 0:
                self._reject()
                continue
            if need:
                k = min(need - n, end - pos)
                if not k:
                    return
                self._mv[n : n + k] = src[pos : pos + k]
                self._n = n + k
                pos += k
                continue
            t = self._total
            try:
                decode(self._mv[:t], self.frame)
            except HdlcError:
                self._reject()
                continue
            self.frames += 1
            yield self.frame
            # Keep the closing flag: it may be the next frame's opening flag.
            self._shift(t - 1)
            self._shared = True
