"""The twin's foundation, from outside: sandboxed network, power cuts at flash writes, watchdog, injected time."""
import os
import time
import re
import shutil
import socket
import threading

import pytest

from twinctl import TwinError


class EchoServer:
    """A loopback TCP server standing in for the utility's head-end."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.received = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c:
                data = c.recv(1024)
                self.received.append(data)
                c.sendall(b"echo:" + data)

    def close(self):
        self.sock.close()


def _probe_all_paths(t, server_port):
    routed = t.cmd("net-probe", host="10.0.25.30", port=58600, send="hello\n")
    assert routed["connected"] and routed["reply"] == "echo:hello\n", routed
    named = t.cmd("net-probe", host="fw.example.net", port=58600, send="named\n")
    assert named["connected"] and named["reply"] == "echo:named\n", named
    unrouted = t.cmd("net-probe", host="194.134.27.147", port=95)
    assert unrouted == {"connected": False, "errno": 101, "id": unrouted["id"], "ok": True}, unrouted
    wrong_port = t.cmd("net-probe", host="10.0.25.30", port=58601)
    assert not wrong_port["connected"] and wrong_port["errno"] == 101
    unknown = t.cmd("net-probe", host="nowhere.example", port=80)
    assert not unknown["connected"] and unknown["errno"] == -2, unknown
    # The listener: the device's DLMS port (4059 in its configuration) on the
    # host port the twin maps it to, answering an AARQ (Gurux, public client).
    with socket.create_connection(("127.0.0.1", t.dlms_port), timeout=5) as c:
        c.sendall(AARQ_PUBLIC)
        reply = c.recv(256)
        assert reply[:2] == b"\x00\x01" and reply[8] == 0x61, reply.hex()


ROUTES = ["10.0.25.30:58600=127.0.0.1:{port}", "fw.example.net=10.0.25.30"]
AARQ_PUBLIC = bytes.fromhex("000100100001001F601DA109060760857405080101BE10040E01000000065F1F040040 1E5DFFFF".replace(" ", ""))


def test_sandbox_routes_and_log(twin_factory):
    srv = EchoServer()
    try:
        t = twin_factory(routes=[r.format(port=srv.port) for r in ROUTES]).start()
        _probe_all_paths(t, srv.port)
        assert srv.received == [b"hello\n", b"named\n"]
        log = t.status()["board"]["net"]
        kinds = [k for k, _ in log]
        assert ["unreachable", "194.134.27.147:95"] in log
        assert ["unresolved", "nowhere.example"] in log
        assert ["listen", "127.0.0.1:%d" % t.dlms_port] in log and kinds.count("connect") == 2
        for kind, addr in log:
            if kind in ("connect", "listen", "internal"):
                assert re.search(r"(^|->)127\.\d+\.\d+\.\d+:\d+$", addr), (kind, addr)
    finally:
        srv.close()


def test_route_target_outside_loopback_is_refused(twin_factory, tmp_path):
    t = twin_factory(routes=["10.0.25.30:58600=10.0.25.30:58600"])
    with pytest.raises(TwinError):
        t.start(timeout=5)


_SOCKADDR = re.compile(r"(connect|bind|sendto|sendmsg)\(\d+, \{sa_family=(AF_INET6?|AF_UNIX|AF_NETLINK)[^}]*?"
                       r"(?:sin6?_port=htons\((\d+)\))?[^}]*?(?:inet_addr\(\"([^\"]+)\"\)|inet_pton\(AF_INET6, \"([^\"]+)\")?")


@pytest.mark.skipif(not shutil.which("strace"), reason="strace is not installed")
def test_nothing_leaves_loopback_under_strace(twin_factory, tmp_path):
    """Every socket address any process of the twin uses, seen by the kernel, is loopback."""
    srv = EchoServer()
    trace = str(tmp_path / "trace.txt")
    try:
        t = twin_factory(
            routes=[r.format(port=srv.port) for r in ROUTES],
            wrap=["strace", "-f", "-qq", "-e", "trace=connect,bind,sendto,sendmsg", "-o", trace],
        ).start(timeout=60)
        _probe_all_paths(t, srv.port)
        t.stop()
    finally:
        srv.close()
    with open(trace) as f:
        calls = [line for line in f if re.search(r"\b(connect|bind|sendto|sendmsg)\(", line)]
    inet = []
    for line in calls:
        if "sa_family=AF_INET" not in line:
            continue
        m4 = re.search(r'sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)', line)
        m6 = re.search(r'sin6_port=htons\((\d+)\).*inet_pton\(AF_INET6, "([^"]+)"', line)
        m = m4 or m6
        assert m, line
        port, addr = int(m.group(1)), m.group(2)
        inet.append((addr, port))
        assert addr.startswith("127.") or addr == "::1", line
        assert port != 53, "a DNS query: " + line
    ports = {p for _, p in inet}
    assert srv.port in ports, "the routed dial was not seen: strace did not trace the device"
    assert t.dlms_port in ports and t.control_port in ports


def test_power_cut_at_every_write_of_boot(twin):
    """Boot saves the boot record; a cut at each of its block writes leaves a mountable, consistent flash."""
    st = twin.status()
    boots = st["device"]["boots"]
    twin.cmd("reset")
    st = twin.wait_ready(boots=boots + 1)
    boots = st["device"]["boots"]
    writes = st["board"]["flash"]["writes"]  # writes of one ordinary boot
    assert writes >= 2, st["board"]
    causes_before = len(st["twin"]["reset_causes"])
    for n in range(1, writes + 2):
        twin.cmd("reset", cut_at_write=n)
        st = twin.wait_ready(boots=boots + 1, timeout=30)
        dev = st["device"]
        assert dev["fs"] == "mounted", (n, dev)  # never reformatted
        assert dev["config"]["PORT"] == 4059 and dev["config"]["PWD"] == "***"
        # the interrupted boot counted itself or not, whole; the next one did
        assert dev["boots"] in (boots + 1, boots + 2), (n, dev["boots"], boots)
        boots = dev["boots"]
    causes = st["twin"]["reset_causes"][-(writes + 1) * 2:]
    # A boot's writes vary by one or two (an event-log append may open a new
    # segment), so nearly every N up to the measured count cut a boot.
    assert causes.count("power") >= writes - 1, causes
    assert len(st["twin"]["reset_causes"]) > causes_before


def test_watchdog_resets_a_blocked_loop(twin_factory):
    t = twin_factory(wdt_ms=1500).start()
    t.advance(5)
    time.sleep(4)  # well past the timeout in host time: a healthy loop keeps feeding
    assert t.status()["twin"]["boots"] == 1
    with pytest.raises(TwinError):
        t.cmd("block", seconds=30, timeout=20)
    st = t.wait_ready(boots=2, timeout=20)
    assert st["device"]["reset_cause"] == "wdt"
    assert st["twin"]["reset_causes"] == ["power", "wdt"]


def test_advance_across_the_tick_wrap(twin):
    st = twin.status()
    t0 = st["device"]["ticks_ms"]
    assert t0 > (1 << 30) - 60000  # the counter starts just before it wraps
    rtc0 = st["device"]["rtc"]
    up0 = st["device"]["uptime_ms"]
    r = twin.advance(120)
    assert r["steps"] >= 60  # the watchdog feeder alone is due every 2 s
    st = twin.status()
    assert st["device"]["ticks_ms"] < t0  # wrapped
    up = st["device"]["uptime_ms"]
    assert 120000 <= up - up0 < 130000, (up0, up)
    assert 120 <= st["device"]["rtc"] - rtc0 < 130
    assert st["twin"]["boots"] == 1  # the watchdog was fed all along


def test_reset_and_power_cut_keep_flash_and_rtc(twin):
    st = twin.status()
    rtc0 = st["device"]["rtc"]
    assert st["device"]["fs"] == "formatted" and st["device"]["boots"] == 1
    twin.cmd("reset")
    st = twin.wait_ready(boots=2)
    assert st["device"]["reset_cause"] == "pin" and st["device"]["fs"] == "mounted"
    twin.cmd("power-cut", off_seconds=3600)
    st = twin.wait_ready(boots=3)
    assert st["device"]["reset_cause"] == "power"
    assert st["device"]["rtc"] - rtc0 >= 3600  # the RTC ran through the outage
    assert st["device"]["rtc_valid"] is False  # never set yet
    twin.cmd("power-cut", rtc_lost=True)
    st = twin.wait_ready(boots=4)
    assert st["device"]["rtc"] < 946684800 + 120  # restarted at 2000-01-01
    assert st["device"]["rtc_valid"] is False
    assert os.path.exists(os.path.join(twin.flash, "flash.bin"))
