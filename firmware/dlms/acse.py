"""ACSE APDUs AARQ, AARE, RLRQ, RLRE in BER, both directions (IEC 62056-5-3 / Green Book ACSE services, ISO/IEC 8650-1 ACSE-1 DLMS subset)."""
from firmware.compat import const
from firmware.dlms.ber import BerError, begin, end, expect_only, put, put_int, put_tag, put_tlv, put_u8, read_int, read_tlv
from firmware.dlms.initiate import (
    CONFIRMED_SERVICE_ERROR,
    INITIATE_REQUEST,
    INITIATE_RESPONSE,
    decode_confirmed_service_error,
    decode_initiate_request,
    decode_initiate_response,
)

# Decoders raise only ber.BerError (a ValueError), whatever the input. They copy
# what they keep out of the input (titles, password, ciphered user-information),
# so the receive buffer may be reused at once; nothing is allocated beyond the
# size of the input, and no decoder recurses.

AARQ = const(0x60)
AARE = const(0x61)
RLRQ = const(0x62)
RLRE = const(0x63)

# Last arc of application-context-name 2.16.756.5.8.1.x (DLMS UA arcs, Green Book).
CONTEXT_LN = const(1)
CONTEXT_SN = const(2)
CONTEXT_LN_CIPHERED = const(3)
CONTEXT_SN_CIPHERED = const(4)
# Last arc of mechanism-name 2.16.756.5.8.2.x.
MECHANISM_NONE = const(0)
MECHANISM_LOW = const(1)
MECHANISM_HIGH = const(2)
MECHANISM_HIGH_MD5 = const(3)
MECHANISM_HIGH_SHA1 = const(4)
MECHANISM_HIGH_GMAC = const(5)
MECHANISM_HIGH_SHA256 = const(6)
MECHANISM_HIGH_ECDSA = const(7)
# A well-formed OBJECT IDENTIFIER outside the DLMS UA arcs decodes to UNKNOWN
# instead of raising, so that a server can answer it with the right diagnostic.
UNKNOWN = const(-1)

# Association-result
ACCEPTED = const(0)
REJECTED_PERMANENT = const(1)
REJECTED_TRANSIENT = const(2)
# Associate-source-diagnostic CHOICE: which alternative carries the value
SOURCE_USER = const(1)  # acse-service-user [1]
SOURCE_PROVIDER = const(2)  # acse-service-provider [2]
# acse-service-user values (0 and 1 mean the same for the provider)
DIAG_NULL = const(0)
DIAG_NO_REASON_GIVEN = const(1)
DIAG_APPLICATION_CONTEXT_NAME_NOT_SUPPORTED = const(2)
# 3..10: calling-/called- AP-title, AP-invocation-id, AE-qualifier, AE-invocation-id not recognized
DIAG_AUTHENTICATION_MECHANISM_NAME_NOT_RECOGNISED = const(11)
DIAG_AUTHENTICATION_MECHANISM_NAME_REQUIRED = const(12)
DIAG_AUTHENTICATION_FAILURE = const(13)
DIAG_AUTHENTICATION_REQUIRED = const(14)
# acse-service-provider value
DIAG_NO_COMMON_ACSE_VERSION = const(2)
# Release-request-reason / Release-response-reason
RELEASE_NORMAL = const(0)
RELEASE_URGENT = const(1)  # request
RELEASE_NOT_FINISHED = const(1)  # response
RELEASE_USER_DEFINED = const(30)

_OID_PREFIX = b"\x60\x85\x74\x05\x08"  # 2.16.756.5.8
# xDLMS APDUs that travel ciphered in user-information: glo-/ded-initiate-request,
# general-glo/-ded-ciphering, general-ciphering; and the response-side ones
# (glo-/ded-initiate-response, glo-/ded-confirmed-service-error).
_CIPHERED_REQ = b"\x21\x41\xdb\xdc\xdd"
_CIPHERED_RSP = b"\x28\x2e\x48\x4e\xdb\xdc\xdd"

# Field kinds: how the contents under a field's tag are laid out.
_BITS = const(0)  # [n] IMPLICIT BIT STRING, first octet kept (protocol-version)
_CTX = const(1)  # [n] EXPLICIT OBJECT IDENTIFIER 2.16.756.5.8.1.x
_TITLE = const(2)  # [n] EXPLICIT OCTET STRING (AP-title, AE-qualifier)
_INT = const(3)  # [n] EXPLICIT INTEGER (invocation ids, result)
_DIAG = const(4)  # [3] EXPLICIT CHOICE { [1] INTEGER, [2] INTEGER }
_REQ = const(5)  # [n] IMPLICIT ACSE-requirements BIT STRING {authentication(0)}
_MECH = const(6)  # [n] IMPLICIT OBJECT IDENTIFIER 2.16.756.5.8.2.x
_AUTH = const(7)  # [n] EXPLICIT CHOICE { charstring [0] GraphicString, bitstring [1] BIT STRING }
_GRAPHIC = const(8)  # [29] IMPLICIT GraphicString
_REASON = const(9)  # [0] IMPLICIT INTEGER
_USER = const(10)  # [30] EXPLICIT OCTET STRING holding one xDLMS APDU

# (tag, attribute, kind) in tag order, which is also the encoding order.
_AARQ_FIELDS = (
    (0x80, "protocol_version", _BITS),
    (0xA1, "application_context_name", _CTX),
    (0xA2, "called_ap_title", _TITLE),
    (0xA3, "called_ae_qualifier", _TITLE),
    (0xA4, "called_ap_invocation_id", _INT),
    (0xA5, "called_ae_invocation_id", _INT),
    (0xA6, "calling_ap_title", _TITLE),
    (0xA7, "calling_ae_qualifier", _TITLE),
    (0xA8, "calling_ap_invocation_id", _INT),
    (0xA9, "calling_ae_invocation_id", _INT),
    (0x8A, "sender_acse_requirements", _REQ),
    (0x8B, "mechanism_name", _MECH),
    (0xAC, "calling_authentication_value", _AUTH),
    (0x9D, "implementation_information", _GRAPHIC),
    (0xBE, "user_information", _USER),
)
_AARE_FIELDS = (
    (0x80, "protocol_version", _BITS),
    (0xA1, "application_context_name", _CTX),
    (0xA2, "result", _INT),
    (0xA3, "result_source_diagnostic", _DIAG),
    (0xA4, "responding_ap_title", _TITLE),
    (0xA5, "responding_ae_qualifier", _TITLE),
    (0xA6, "responding_ap_invocation_id", _INT),
    (0xA7, "responding_ae_invocation_id", _INT),
    (0x88, "responder_acse_requirements", _REQ),
    (0x89, "mechanism_name", _MECH),
    (0xAA, "responding_authentication_value", _AUTH),
    (0x9D, "implementation_information", _GRAPHIC),
    (0xBE, "user_information", _USER),
)
_RELEASE_FIELDS = ((0x80, "reason", _REASON), (0xBE, "user_information", _USER))


class _Apdu:
    # _TAG, _FIELDS, _REQUIRED, _REQUEST come from the subclass.
    def __init__(self, kw):
        self.user_information = None
        self.ciphered_user_information = None
        for a in self._FIELDS:
            if not hasattr(self, a[1]):
                setattr(self, a[1], False if a[2] == _REQ else None)
        for k in kw:
            if not hasattr(self, k):
                raise TypeError(k)
            setattr(self, k, kw[k])

    def encode(self, buf, pos=0):
        """Write the whole APDU into buf at pos; returns the position after it."""
        start = begin(buf, pos, self._TAG)
        p = start
        for tag, name, kind in self._FIELDS:
            v = getattr(self, name)
            if kind == _USER and v is None:
                v = self.ciphered_user_information
            if v is None or v is False:
                continue
            p = _put_field(self, buf, p, tag, kind, v)
        return end(buf, start, p)


class Aarq(_Apdu):
    """AARQ-apdu ::= [APPLICATION 0]. user_information: InitiateRequest or None;
    ciphered_user_information: the raw glo-/ded-initiate-request APDU (bytes) or None."""

    _TAG = AARQ
    _FIELDS = _AARQ_FIELDS
    _REQUIRED = ("application_context_name",)
    _REQUEST = True

    def __init__(self, **kw):
        self.application_context_name = CONTEXT_LN
        self.authentication_value_bitstring = False
        _Apdu.__init__(self, kw)


class Aare(_Apdu):
    """AARE-apdu ::= [APPLICATION 1]. result_source_diagnostic is the value, diagnostic_source
    says which CHOICE carries it (SOURCE_USER / SOURCE_PROVIDER). user_information:
    InitiateResponse, ConfirmedServiceError or None (an AARE may carry none, as L+G meters do)."""

    _TAG = AARE
    _FIELDS = _AARE_FIELDS
    _REQUIRED = ("application_context_name", "result", "result_source_diagnostic")
    _REQUEST = False

    def __init__(self, **kw):
        self.application_context_name = CONTEXT_LN
        self.result = ACCEPTED
        self.diagnostic_source = SOURCE_USER
        self.result_source_diagnostic = DIAG_NULL
        self.authentication_value_bitstring = False
        _Apdu.__init__(self, kw)


class Rlrq(_Apdu):
    """RLRQ-apdu ::= [APPLICATION 2]: reason and an InitiateRequest in user_information, both optional."""

    _TAG = RLRQ
    _FIELDS = _RELEASE_FIELDS
    _REQUIRED = ()
    _REQUEST = True

    def __init__(self, **kw):
        _Apdu.__init__(self, kw)


class Rlre(_Apdu):
    """RLRE-apdu ::= [APPLICATION 3]: reason and an InitiateResponse in user_information, both optional.
    A server puts user-information in it only when the RLRQ carried one (the well-formed RLRE of
    spec/dlms-byte-examples.md 4.2); an RLRE with a broken BE length must never be sent."""

    _TAG = RLRE
    _FIELDS = _RELEASE_FIELDS
    _REQUIRED = ()
    _REQUEST = False

    def __init__(self, **kw):
        _Apdu.__init__(self, kw)


# ---- encoding ---------------------------------------------------------------


def _put_oid(buf, p, family, arc):
    if not 0 <= arc <= 127:
        raise BerError("arc")
    p = put_u8(buf, p, 7)
    p = put(buf, p, _OID_PREFIX)
    p = put_u8(buf, p, family)
    return put_u8(buf, p, arc)


def _put_field(obj, buf, p, tag, kind, v):
    if kind == _REQ:
        # Only the authentication functional unit exists in DLMS: bit 0 set, 7 unused bits.
        return put(buf, put_u8(buf, p, tag), b"\x02\x07\x80")
    if kind == _MECH:
        return _put_oid(buf, put_u8(buf, p, tag), 2, v)
    if kind == _GRAPHIC:
        return put_tlv(buf, p, tag, v)
    if kind == _REASON:
        return put_int(buf, p, tag, v)
    if kind == _BITS:
        if not 0 <= v <= 255:
            raise BerError("bits")
        unused = 0
        while unused < 7 and v and not (v >> unused) & 1:
            unused += 1
        p = put_tag(buf, p, tag)
        return put(buf, p, b"\x01\x00") if v == 0 else put(buf, p, bytes((2, unused, v)))
    s = begin(buf, p, tag)
    if kind == _CTX:
        p = put_u8(buf, s, 0x06)
        p = _put_oid(buf, p, 1, v)
    elif kind == _TITLE:
        p = put_tlv(buf, s, 0x04, v)
    elif kind == _INT:
        p = put_int(buf, s, 0x02, v)
    elif kind == _DIAG:
        src = obj.diagnostic_source
        if src != SOURCE_USER and src != SOURCE_PROVIDER:
            raise BerError("diagnostic source")
        s2 = begin(buf, s, 0xA0 | src)
        p = end(buf, s2, put_int(buf, s2, 0x02, v))
    elif kind == _AUTH:
        if obj.authentication_value_bitstring:
            s2 = begin(buf, s, 0x81)
            p = end(buf, s2, put(buf, put_u8(buf, s2, 0), v))
        else:
            p = put_tlv(buf, s, 0x80, v)
    else:  # _USER
        s2 = begin(buf, s, 0x04)
        p = put(buf, s2, v) if isinstance(v, (bytes, bytearray, memoryview)) else v.encode(buf, s2)
        p = end(buf, s2, p)
    return end(buf, s, p)


# ---- decoding ---------------------------------------------------------------


def _arc(b, s, e, family):
    if e - s != 7 or b[s + 5] != family or b[s + 6] > 127:
        return UNKNOWN
    for i in range(5):
        if b[s + i] != _OID_PREFIX[i]:
            return UNKNOWN
    return b[s + 6]


def _first_bits(b, s, e):
    # BIT STRING contents: the unused-bit count, then the bits; DLMS names bits in the first octet only.
    if s >= e or b[s] > 7:
        raise BerError("bit string")
    return b[s + 1] if e - s > 1 else 0


def _inner(b, s, e):
    # An EXPLICIT tag wraps exactly one TLV.
    t, s2, e2 = read_tlv(b, s, e)
    if e2 != e:
        raise BerError("trailing bytes")
    return t, s2, e2


def _user(obj, b, s, e):
    obj.user_information = obj.ciphered_user_information = None  # a repeated field replaces, never adds
    s, e = expect_only(b, s, e, 0x04)
    if s >= e:
        raise BerError("empty user-information")
    t = b[s]
    if obj._REQUEST:
        if t == INITIATE_REQUEST:
            obj.user_information = decode_initiate_request(b, s, e)
            return
        ciphered = _CIPHERED_REQ
    else:
        if t == INITIATE_RESPONSE:
            obj.user_information = decode_initiate_response(b, s, e)
            return
        if t == CONFIRMED_SERVICE_ERROR:
            obj.user_information = decode_confirmed_service_error(b, s, e)
            return
        ciphered = _CIPHERED_RSP
    if t not in ciphered:
        raise BerError("user-information APDU %X" % t)
    # Left for the security layer to decipher.
    obj.ciphered_user_information = bytes(b[s:e])


def _get_field(obj, name, kind, b, s, e):
    if kind == _USER:
        _user(obj, b, s, e)
        return
    if kind == _BITS:
        v = _first_bits(b, s, e)
    elif kind == _REQ:
        v = bool(_first_bits(b, s, e) & 0x80)
    elif kind == _CTX:
        s, e = expect_only(b, s, e, 0x06)
        v = _arc(b, s, e, 1)
    elif kind == _MECH:
        v = _arc(b, s, e, 2)
    elif kind == _GRAPHIC:
        v = bytes(b[s:e])
    elif kind == _REASON:
        v = read_int(b, s, e)
    elif kind == _DIAG:
        t, s, e = _inner(b, s, e)
        if t != 0xA1 and t != 0xA2:
            raise BerError("diagnostic choice")
        obj.diagnostic_source = t & 0x1F
        s, e = expect_only(b, s, e, 0x02)
        v = read_int(b, s, e)
    else:
        t, s, e = _inner(b, s, e)
        # A form DLMS does not use (an AP-title as a Name, an EXTERNAL password...)
        # is skipped like an unknown field: well-formed, but left None.
        v = None
        if kind == _TITLE:
            if t == 0x04:
                v = bytes(b[s:e])
        elif kind == _INT:
            if t == 0x02:
                v = read_int(b, s, e)
        else:  # _AUTH
            obj.authentication_value_bitstring = t == 0x81
            if t == 0x80:
                v = bytes(b[s:e])
            elif t == 0x81:  # the unused-bit count is dropped: a password is whole octets
                _first_bits(b, s, e)
                v = bytes(b[s + 1 : e])
    setattr(obj, name, v)


def _decode(obj, b):
    n = len(b)
    t, start, stop = read_tlv(b, 0, n)
    if t != obj._TAG:
        raise BerError("APDU tag %X" % t)
    if stop != n:
        raise BerError("trailing bytes")
    for name in obj._REQUIRED:
        setattr(obj, name, None)
    fields = obj._FIELDS
    p = start
    while p < stop:
        t, s, e = read_tlv(b, p, stop)
        p = e
        for f in fields:
            if f[0] == t:
                _get_field(obj, f[1], f[2], b, s, e)
                break
        # Any other tag is an optional field DLMS does not use: skipped.
    for name in obj._REQUIRED:
        if getattr(obj, name) is None:
            raise BerError("missing " + name)
    return obj


def decode_aarq(b):
    """The AARQ that fills b (bytes, bytearray or memoryview) exactly."""
    return _decode(Aarq(), b)


def decode_aare(b):
    return _decode(Aare(), b)


def decode_rlrq(b):
    return _decode(Rlrq(), b)


def decode_rlre(b):
    return _decode(Rlre(), b)


def decode(b):
    """Any of the four ACSE APDUs, chosen by its first octet."""
    t = b[0] if len(b) else -1
    if t == AARQ:
        return decode_aarq(b)
    if t == AARE:
        return decode_aare(b)
    if t == RLRQ:
        return decode_rlrq(b)
    if t == RLRE:
        return decode_rlre(b)
    raise BerError("not an ACSE APDU")
