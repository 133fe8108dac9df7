"""The two real DLMS clients the twin is tested with, over TCP: gurux-dlms (with our socket I/O) and dlms-cosem."""
import socket

from gurux_dlms import GXByteBuffer, GXDLMSClient, GXReplyData
from gurux_dlms.enums import Authentication, InterfaceType


class DlmsReplyError(Exception):
    def __init__(self, error, text=""):
        Exception.__init__(self, "DLMS error %s %s" % (error, text))
        self.error = error


class Gurux:
    """GXDLMSClient driven over a TCP socket with the IEC 62056-47 wrapper."""

    def __init__(self, port, client=0x10, password=None, max_pdu=None, host="127.0.0.1", timeout=10):
        auth = Authentication.LOW if password is not None else Authentication.NONE
        self.client = GXDLMSClient(True, client, 1, auth, password, InterfaceType.WRAPPER)
        if max_pdu:
            self.client.maxReceivePDUSize = max_pdu
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.frames = 0

    def close(self):
        self.sock.close()

    def packet(self, data, reply):
        """Send one message and receive until Gurux has a whole reply."""
        notify = GXReplyData()
        rd = GXByteBuffer()
        if data:
            self.sock.sendall(bytes(data))
            self.frames += 1
        while not self.client.getData(rd, reply, notify):
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the device closed the connection")
            rd.set(chunk)
        if reply.error != 0:
            raise DlmsReplyError(reply.error, str(getattr(reply, "errorMessage", "")))

    def block(self, data, reply):
        if isinstance(data, list):
            for it in data:
                reply.clear()
                self.block(it, reply)
            return
        self.packet(data, reply)
        while reply.isMoreData():
            self.packet(self.client.receiverReady(reply), reply)

    def associate(self):
        reply = GXReplyData()
        self.block(self.client.aarqRequest(), reply)
        self.client.parseAareResponse(reply.data)
        return reply

    def release(self):
        reply = GXReplyData()
        self.block(self.client.releaseRequest(), reply)
        return reply

    def read(self, obj, attr):
        reply = GXReplyData()
        self.block(self.client.read(obj, attr), reply)
        return self.client.updateValue(obj, attr, reply.value)

    def read_raw(self, obj, attr):
        """The attribute's A-XDR Data as the device sent it (block transfer reassembled)."""
        reply = GXReplyData()
        self.block(self.client.read(obj, attr), reply)
        return bytes(reply.data.array()[: reply.data.size])

    def write(self, obj, attr):
        reply = GXReplyData()
        self.block(self.client.write(obj, attr), reply)
        return reply

    def method(self, obj, index, value, dtype=None):
        reply = GXReplyData()
        self.block(self.client.method(obj, index, value, dtype), reply)
        return reply

    def object_list(self):
        reply = GXReplyData()
        self.block(self.client.getObjectsRequest(), reply)
        raw = bytes(reply.data.array()[: reply.data.size])
        objs = self.client.parseObjects(reply.data, True, False)
        return raw, objs


def _tcp_io_class():
    from dlms_cosem import exceptions
    from dlms_cosem.io import BlockingTcpIO

    class TcpIO(BlockingTcpIO):
        # dlms-cosem 25.1's recv() loops forever, at full CPU, on a socket the
        # peer has closed (recv returns b"" and it tries again): a device that
        # refuses a second connection with a FIN would hang the test run.
        def recv(self, amount=1):
            data = b""
            while len(data) < amount:
                try:
                    chunk = self.tcp_socket.recv(amount - len(data))
                except OSError as e:
                    raise exceptions.CommunicationError("Could not receive data") from e
                if not chunk:
                    raise exceptions.CommunicationError("the device closed the connection")
                data += chunk
            return data

    return TcpIO


def dlms_cosem(port, client=0x10, password=None, max_pdu=65535, host="127.0.0.1", block_transfer=True):
    """A dlms-cosem DlmsClient on the TCP wrapper (not yet connected)."""
    from dlms_cosem.client import DlmsClient
    from dlms_cosem.io import TcpTransport
    from dlms_cosem.security import LowLevelSecurityAuthentication, NoSecurityAuthentication

    auth = LowLevelSecurityAuthentication(secret=password) if password is not None else NoSecurityAuthentication()
    io = _tcp_io_class()(host=host, port=port, timeout=10)
    tr = TcpTransport(client_logical_address=client, server_logical_address=1, io=io, timeout=10)
    return DlmsClient(transport=tr, authentication=auth, max_pdu_size=max_pdu, block_transfer=block_transfer)
