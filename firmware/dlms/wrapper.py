"""DLMS/COSEM wrapper header for TCP and UDP: IEC 62056-47 clause 5.3.2 (WPDU), used on TCP as in clause 6."""
import struct

from firmware.compat import const

HEADER_LEN = 8  # version, source wPort, destination wPort, length: u16 big-endian each
PORT = 4059  # IANA dlms/cosem, TCP and UDP

_VERSION = const(1)
_HDR = ">HHHH"


class WrapperError(ValueError):
    pass


def encode_header(buf, source, destination, length, offset=0):
    """Writes a header at buf[offset:]; returns the offset just past it."""
    # struct.pack_into truncates silently on MicroPython, so range-check here.
    if not (0 <= source <= 0xFFFF and 0 <= destination <= 0xFFFF and 0 <= length <= 0xFFFF):
        raise WrapperError("field out of range")
    if len(buf) - offset < HEADER_LEN or offset < 0:
        raise WrapperError("buffer too small")
    struct.pack_into(_HDR, buf, offset, _VERSION, source, destination, length)
    return offset + HEADER_LEN


def decode_header(data, offset=0):
    """(source, destination, length) of the header at data[offset:]."""
    if len(data) - offset < HEADER_LEN or offset < 0:
        raise WrapperError("short header")
    v, s, d, n = struct.unpack_from(_HDR, data, offset)
    if v != _VERSION:
        raise WrapperError("bad version")
    return s, d, n


def decode(data):
    """(source, destination, apdu) of one whole WPDU, e.g. a UDP datagram; apdu is a memoryview slice."""
    s, d, n = decode_header(data)
    if n != len(data) - HEADER_LEN:
        raise WrapperError("length mismatch")
    return s, d, memoryview(data)[HEADER_LEN:]


class Reassembler:
    """Sans-io TCP stream to APDUs: feed() what the socket gave, iterate the APDUs it completes.

    Each APDU is a memoryview of the reassembler's own fixed buffer, valid until the
    generator is resumed; source and destination hold its wPorts. A bad version or a
    length above max_apdu raises WrapperError: the stream has lost its framing and
    the caller closes the connection (the state is reset so the object can be reused).
    """

    def __init__(self, max_apdu):
        self._max = max_apdu
        self._hdr = bytearray(HEADER_LEN)
        self._buf = bytearray(max_apdu)
        self._mv = memoryview(self._buf)
        self.source = 0
        self.destination = 0
        self.reset()

    def reset(self):
        self._hn = 0  # header bytes held
        self._len = -1  # APDU length once the header is complete
        self._n = 0  # APDU bytes held

    def pending(self):
        """Bytes held of an incomplete WPDU."""
        return self._hn + self._n

    def feed(self, data):
        src = memoryview(data)
        pos = 0
        end = len(src)
        while True:
            if self._len < 0:
                hn = self._hn
                k = min(HEADER_LEN - hn, end - pos)
                if k:
                    self._hdr[hn : hn + k] = src[pos : pos + k]
                    pos += k
                    hn += k
                    self._hn = hn
                if hn < HEADER_LEN:
                    return
                v, s, d, n = struct.unpack_from(_HDR, self._hdr, 0)
                if v != _VERSION or n > self._max:
                    self.reset()
                    raise WrapperError("bad version" if v != _VERSION else "APDU too long")
                self.source = s
                self.destination = d
                self._len = n
                self._n = 0
            n = self._n
            k = min(self._len - n, end - pos)
            if k:
                self._mv[n : n + k] = src[pos : pos + k]
                pos += k
                n += k
                self._n = n
            if n < self._len:
                return
            length = self._len
            self.reset()
            yield self._mv[:length]
