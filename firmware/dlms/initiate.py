"""xDLMS InitiateRequest, InitiateResponse, ConfirmedServiceError and the conformance block (IEC 62056-5-3 xDLMS ASN.1, A-XDR by hand)."""
from firmware.compat import const
from firmware.dlms.ber import BerError, put, put_u8, room

# ---- conformance block ----------------------------------------------------
# Conformance ::= [APPLICATION 31] IMPLICIT BIT STRING (SIZE(24)), sent as
# 5F 1F 04 00 xx xx xx. BER numbers bit 0 as the most significant bit of the
# first octet, so the mask below is simply the three octets read big-endian:
# bit n of the standard is 1 << (23 - n). (Gurux's Python/C enums number the
# other way round; their Java enum and the wire agree with this one.)
#
#  bit  name                               mask      | bit  name                   mask
#   0   reserved-zero                      0x800000  |  12  block-transfer-with-set-or-write 0x000800
#   1   general-protection                 0x400000  |  13  block-transfer-with-action 0x000400
#   2   general-block-transfer             0x200000  |  14  multiple-references    0x000200
#   3   read (SN)                          0x100000  |  15  information-report (SN) 0x000100
#   4   write (SN)                         0x080000  |  16  data-notification      0x000080
#   5   unconfirmed-write (SN)             0x040000  |  17  access                 0x000040
#   6   delta-value-encoding (ex reserved-six)       |  18  parameterized-access (SN) 0x000020
#                                          0x020000  |  19  get                    0x000010
#   7   reserved-seven                     0x010000  |  20  set                    0x000008
#   8   attribute0-supported-with-set      0x008000  |  21  selective-access       0x000004
#   9   priority-mgmt-supported            0x004000  |  22  event-notification     0x000002
#  10   attribute0-supported-with-get      0x002000  |  23  action                 0x000001
#  11   block-transfer-with-get-or-read    0x001000  |
RESERVED_ZERO = const(0x800000)
GENERAL_PROTECTION = const(0x400000)
GENERAL_BLOCK_TRANSFER = const(0x200000)
READ = const(0x100000)
WRITE = const(0x080000)
UNCONFIRMED_WRITE = const(0x040000)
DELTA_VALUE_ENCODING = const(0x020000)
RESERVED_SEVEN = const(0x010000)
ATTRIBUTE0_SUPPORTED_WITH_SET = const(0x008000)
PRIORITY_MGMT_SUPPORTED = const(0x004000)
ATTRIBUTE0_SUPPORTED_WITH_GET = const(0x002000)
BLOCK_TRANSFER_WITH_GET_OR_READ = const(0x001000)
BLOCK_TRANSFER_WITH_SET_OR_WRITE = const(0x000800)
BLOCK_TRANSFER_WITH_ACTION = const(0x000400)
MULTIPLE_REFERENCES = const(0x000200)
INFORMATION_REPORT = const(0x000100)
DATA_NOTIFICATION = const(0x000080)
ACCESS = const(0x000040)
PARAMETERIZED_ACCESS = const(0x000020)
GET = const(0x000010)
SET = const(0x000008)
SELECTIVE_ACCESS = const(0x000004)
EVENT_NOTIFICATION = const(0x000002)
ACTION = const(0x000001)


def conformance_bit(n):
    """Mask of the standard's bit number n (0..23)."""
    return 1 << (23 - n)


def put_conformance(buf, pos, mask):
    if not 0 <= mask <= 0xFFFFFF:
        raise BerError("conformance")
    room(buf, pos, 7)
    buf[pos : pos + 4] = b"\x5f\x1f\x04\x00"
    buf[pos + 4] = mask >> 16
    buf[pos + 5] = (mask >> 8) & 0xFF
    buf[pos + 6] = mask & 0xFF
    return pos + 7


def read_conformance(b, pos, end):
    """5F 1F 04 uu xx xx xx -> (mask, pos); bits the unused count marks as padding are cleared."""
    if end - pos < 7:
        raise BerError("truncated conformance")
    if b[pos] != 0x5F or b[pos + 1] != 0x1F or b[pos + 2] != 4 or b[pos + 3] > 7:
        raise BerError("conformance tag")
    mask = (b[pos + 4] << 16) | (b[pos + 5] << 8) | b[pos + 6]
    return mask & ~((1 << b[pos + 3]) - 1), pos + 7


# ---- xDLMS APDU tags and the initiate error values -------------------------
INITIATE_REQUEST = const(0x01)
INITIATE_RESPONSE = const(0x08)
CONFIRMED_SERVICE_ERROR = const(0x0E)
DLMS_VERSION = const(6)
VAA_NAME_LN = const(0x0007)  # dummy vaa-name of LN referencing
VAA_NAME_SN = const(0xFA00)  # base_name of the Association SN object

# ConfirmedServiceError ::= CHOICE { initiateError [1] ServiceError, ... read [5], write [6] ... }
SERVICE_INITIATE_ERROR = const(1)
# ServiceError ::= CHOICE { ... initiate [6] IMPLICIT ENUMERATED {...} ... }
ERROR_INITIATE = const(6)
INITIATE_OTHER = const(0)
INITIATE_DLMS_VERSION_TOO_LOW = const(1)
INITIATE_INCOMPATIBLE_CONFORMANCE = const(2)
INITIATE_PDU_SIZE_TOO_SHORT = const(3)
INITIATE_REFUSED_BY_THE_VDE_HANDLER = const(4)


def _set(obj, kw):
    for k in kw:
        if not hasattr(obj, k):
            raise TypeError(k)
        setattr(obj, k, kw[k])


def _u16(buf, pos, v):
    if not 0 <= v <= 0xFFFF:
        raise BerError("u16")
    pos = put_u8(buf, pos, v >> 8)
    return put_u8(buf, pos, v & 0xFF)


def _u8(b, pos, end):
    if pos >= end:
        raise BerError("truncated xDLMS")
    return b[pos]


def _opt_i8(buf, pos, v):
    # An A-XDR OPTIONAL is a usage flag 00/01, then the value when 01.
    if v is None:
        return put_u8(buf, pos, 0)
    if not -128 <= v <= 127:
        raise BerError("i8")
    pos = put_u8(buf, pos, 1)
    return put_u8(buf, pos, v & 0xFF)


def _read_opt_i8(b, pos, end):
    if not _u8(b, pos, end):
        return None, pos + 1
    v = _u8(b, pos + 1, end)
    return v - 256 if v > 127 else v, pos + 2


def _head(b, start, stop, tag):
    if _u8(b, start, stop) != tag:
        raise BerError("xDLMS tag")
    return start + 1


class InitiateRequest:
    """InitiateRequest ::= SEQUENCE { dedicated-key OCTET STRING OPTIONAL, response-allowed BOOLEAN
    DEFAULT TRUE, proposed-quality-of-service [0] IMPLICIT Integer8 OPTIONAL, proposed-dlms-version-number
    Unsigned8, proposed-conformance Conformance, client-max-receive-pdu-size Unsigned16 }"""

    def __init__(self, **kw):
        self.dedicated_key = None
        self.response_allowed = True
        self.proposed_quality_of_service = None
        self.proposed_dlms_version_number = DLMS_VERSION
        self.proposed_conformance = 0
        self.client_max_receive_pdu_size = 0xFFFF
        _set(self, kw)

    def encode(self, buf, pos):
        pos = put_u8(buf, pos, INITIATE_REQUEST)
        k = self.dedicated_key
        if k is None:
            pos = put_u8(buf, pos, 0)
        else:
            # A key is 16 or 32 octets, so the A-XDR length is always one octet.
            if len(k) > 127:
                raise BerError("dedicated key")
            pos = put_u8(buf, pos, 1)
            pos = put_u8(buf, pos, len(k))
            pos = put(buf, pos, k)
        # TRUE is the default, so it is conveyed by a 00 usage flag, as Gurux does.
        pos = put(buf, pos, b"\x00" if self.response_allowed else b"\x01\x00")
        pos = _opt_i8(buf, pos, self.proposed_quality_of_service)
        v = self.proposed_dlms_version_number
        if not 0 <= v <= 255:
            raise BerError("u8")
        pos = put_u8(buf, pos, v)
        pos = put_conformance(buf, pos, self.proposed_conformance)
        return _u16(buf, pos, self.client_max_receive_pdu_size)


def decode_initiate_request(b, start, stop):
    """The InitiateRequest that fills b[start:stop] exactly."""
    p = _head(b, start, stop, INITIATE_REQUEST)
    r = InitiateRequest()
    if _u8(b, p, stop):
        n = _u8(b, p + 1, stop)
        if n > 127 or n > stop - p - 2:
            raise BerError("dedicated key")
        r.dedicated_key = bytes(b[p + 2 : p + 2 + n])
        p += 2 + n
    else:
        p += 1
    if _u8(b, p, stop):
        r.response_allowed = _u8(b, p + 1, stop) != 0
        p += 2
    else:
        p += 1
    r.proposed_quality_of_service, p = _read_opt_i8(b, p, stop)
    r.proposed_dlms_version_number = _u8(b, p, stop)
    r.proposed_conformance, p = read_conformance(b, p + 1, stop)
    if stop - p != 2:
        raise BerError("InitiateRequest length")
    r.client_max_receive_pdu_size = (b[p] << 8) | b[p + 1]
    return r


class InitiateResponse:
    """InitiateResponse ::= SEQUENCE { negotiated-quality-of-service [0] IMPLICIT Integer8 OPTIONAL,
    negotiated-dlms-version-number Unsigned8, negotiated-conformance Conformance,
    server-max-receive-pdu-size Unsigned16, vaa-name ObjectName }"""

    def __init__(self, **kw):
        self.negotiated_quality_of_service = None
        self.negotiated_dlms_version_number = DLMS_VERSION
        self.negotiated_conformance = 0
        self.server_max_receive_pdu_size = 0xFFFF
        self.vaa_name = VAA_NAME_LN
        _set(self, kw)

    def encode(self, buf, pos):
        pos = put_u8(buf, pos, INITIATE_RESPONSE)
        pos = _opt_i8(buf, pos, self.negotiated_quality_of_service)
        v = self.negotiated_dlms_version_number
        if not 0 <= v <= 255:
            raise BerError("u8")
        pos = put_u8(buf, pos, v)
        pos = put_conformance(buf, pos, self.negotiated_conformance)
        pos = _u16(buf, pos, self.server_max_receive_pdu_size)
        return _u16(buf, pos, self.vaa_name)


def decode_initiate_response(b, start, stop):
    """The InitiateResponse that fills b[start:stop] exactly; vaa_name is kept unsigned (0xFA00, not -1536)."""
    p = _head(b, start, stop, INITIATE_RESPONSE)
    r = InitiateResponse()
    r.negotiated_quality_of_service, p = _read_opt_i8(b, p, stop)
    r.negotiated_dlms_version_number = _u8(b, p, stop)
    r.negotiated_conformance, p = read_conformance(b, p + 1, stop)
    if stop - p != 4:
        raise BerError("InitiateResponse length")
    r.server_max_receive_pdu_size = (b[p] << 8) | b[p + 1]
    r.vaa_name = (b[p + 2] << 8) | b[p + 3]
    return r


class ConfirmedServiceError:
    """0E service error value, e.g. 0E 01 06 01 = initiateError, initiate, dlms-version-too-low.
    ConfirmedServiceError(INITIATE_PDU_SIZE_TOO_SHORT) is the usual AARE payload: the initiate
    CHOICEs are the defaults."""

    def __init__(self, value=INITIATE_OTHER, service=SERVICE_INITIATE_ERROR, error=ERROR_INITIATE):
        self.service = service
        self.error = error
        self.value = value

    def encode(self, buf, pos):
        for v in (CONFIRMED_SERVICE_ERROR, self.service, self.error, self.value):
            if not 0 <= v <= 255:
                raise BerError("u8")
            pos = put_u8(buf, pos, v)
        return pos


def decode_confirmed_service_error(b, start, stop):
    p = _head(b, start, stop, CONFIRMED_SERVICE_ERROR)
    if stop - p != 3:
        raise BerError("ConfirmedServiceError length")
    return ConfirmedServiceError(b[p + 2], b[p], b[p + 1])
