"""The twin's Landis+Gyr E350: identity, a small physical model, and IEC 62056-21 mode C on its internal UART."""
# A first meter for the next issues to read. It answers a sign-on at 300 baud
# 7E1 with its identification, switches to the rate the reader selects, and
# sends a data readout of its registers (IEC 62056-21 clause 6.3, mode C).
# Energy accumulates from the load into the active rate on the twin's
# injected clock, so `advance 3600` adds an hour of consumption. Its state
# (registers, counters) lives in a host file, the meter's own memory, which
# survives the module's power cuts; an outage counts as a power failure.
import json
import math
import os

import asyncio

_STX = 0x02
_ETX = 0x03
_ACK = 0x06
_NAK = 0x15
_BAUD_CHARS = "012345"  # mode C: 300, 600, 1200, 2400, 4800, 9600
_BAUDS = (300, 600, 1200, 2400, 4800, 9600)
_IDLE = {"baudrate": 300, "bits": 7, "parity": 0, "stop": 1}

IDENTITY = {
    "serial": "11620371",  # the manual's E350 number (EM_ID)
    "manufacturer": "LGZ",
    "ident": "ZMF100AC.M29",
    "firmware": "B31",
    "config_id": "E350-CFG-07",
    "customer_id": "0000000001",
    "calendar_active": "TOU-2026A",
    "calendar_passive": "TOU-2026B",
    "fw_checksum": "5A3C",
}

# Energy registers the E350 keeps, by OBIS C group, each in total + 6 rates.
_ENERGY_C = (1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 21, 22, 41, 42, 61, 62, 128, 130, 131, 132, 133)
_PHASE_C = ((21, 22), (41, 42), (61, 62))


class E350Sim:
    def __init__(self, uart, vclock, rtc, path, power_event=None):
        self.uart = uart
        self._vc = vclock
        self._rtc = rtc
        self.path = path
        self.id = dict(IDENTITY)
        # per phase: voltage, current, power factor; export reverses the flow
        self.load = {"I": [5.0, 3.0, 2.0], "pf": [0.95, 0.9, 0.98], "U": [230.0, 231.0, 229.0], "export": False}
        self.rate = 1
        self.energy = {str(c): [0.0] * 7 for c in _ENERGY_C}  # Wh / varh / VAh; [0] total, [1..6] rates
        self.power_failures = [0, 0, 0, 0]  # all phases, L1, L2, L3
        self.tamper = [0, 0, 0]  # terminal cover, DC field, disconnector
        self.readouts = 0
        self.errors = 0
        self.phase_down = [0, 0, 0]  # virtual ms until which each phase is out
        self.fault = None  # None, "silent" (answers nothing) or "garbage" (answers noise)
        self._load_state()
        if power_event is not None:
            # The module is fed from the meter's mains: its outage was ours too.
            for i in range(4):
                self.power_failures[i] += 1
            self._save()
        self._t = vclock.ms()
        uart.init(**_IDLE)

    # -- physical model --
    def fail_phase(self, ph, seconds):
        """Phase ph (1..3) out for that long: its voltage and current drop to zero and its counter counts it."""
        self.integrate()
        self.phase_down[ph - 1] = self._vc.ms() + int(seconds * 1000)
        self.power_failures[ph] += 1
        self._save()

    def _phase(self, i, t):
        if t < self.phase_down[i]:
            return 0.0, 0.0, self.load["pf"][i], 0.0, 0.0
        # A slow wobble so successive readings differ, as on a real network.
        u = self.load["U"][i] + 1.5 * math.sin(t / 97000 + i)
        cur = self.load["I"][i] * (1 + 0.02 * math.sin(t / 53000 + 2 * i))
        pf = self.load["pf"][i]
        sign = -1 if self.load["export"] else 1
        p = sign * u * cur * pf  # W, + import
        q = u * cur * math.sqrt(max(0.0, 1 - pf * pf))  # var, inductive load
        return u, cur, pf, p, q

    def instant(self):
        t = self._vc.ms()
        return [self._phase(i, t) for i in range(3)]

    def _add(self, c, v):
        e = self.energy[str(c)]
        e[0] += v
        e[self.rate] += v

    def integrate(self):
        now = self._vc.ms()
        dt_h = (now - self._t) / 3600000
        self._t = now
        if dt_h <= 0:
            return
        for i, (u, cur, pf, p, q) in enumerate(self.instant()):
            ep, eq, es = p * dt_h, q * dt_h, u * cur * dt_h
            imp, exp = max(ep, 0.0), max(-ep, 0.0)
            self._add(1, imp)
            self._add(2, exp)
            self._add(_PHASE_C[i][0], imp)
            self._add(_PHASE_C[i][1], exp)
            self._add(15, abs(ep))
            self._add(128, abs(ep))
            self._add(16, ep)
            self._add(9, es)
            # reactive energy by quadrant (Q1: +P +Q, Q2: -P +Q, Q3: -P -Q, Q4: +P -Q)
            quadrant = (5 if ep >= 0 else 6) if eq >= 0 else (7 if ep < 0 else 8)
            self._add(quadrant, abs(eq))
            self._add(3 if eq >= 0 else 4, abs(eq))
            self._add(132 if eq >= 0 else 133, abs(eq))
            self._add(130, abs(eq))
            self._add(131, abs(eq))

    def frequency(self):
        return 50.0 + 0.02 * math.sin(self._vc.ms() / 71000)

    # -- state in the meter's own memory (a host file) --
    def _load_state(self):
        try:
            with open(self.path) as f:
                st = json.load(f)
            for k, v in st["energy"].items():
                if k in self.energy:
                    self.energy[k] = v
            self.power_failures = st["power_failures"]
            self.tamper = st.get("tamper", self.tamper)
            self.rate = st.get("rate", 1)
            self.load.update(st.get("load", {}))
        except (OSError, ValueError, KeyError):
            pass

    def _save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"energy": self.energy, "power_failures": self.power_failures, "tamper": self.tamper,
                       "rate": self.rate, "load": self.load}, f)
        os.rename(tmp, self.path)

    def set_load(self, changes):
        self.integrate()
        for k in ("I", "pf", "U"):
            if k in changes:
                v = [float(x) for x in changes[k]]
                if len(v) != 3:
                    raise ValueError("%s needs three phases" % k)
                self.load[k] = v
        if "export" in changes:
            self.load["export"] = bool(changes["export"])
        if "fault" in changes:
            if changes["fault"] not in (None, "silent", "garbage"):
                raise ValueError("fault: None, silent or garbage")
            self.fault = changes["fault"]
        if "rate" in changes:
            r = int(changes["rate"])
            if not 1 <= r <= 6:
                raise ValueError("rate 1..6")
            self.rate = r
        self._save()

    # -- IEC 62056-21 mode C --
    def readout_lines(self):
        self.integrate()
        self._save()
        inst = self.instant()
        i = self.id
        lines = [
            "F.F(00000000)",
            "0.0(%s)" % i["customer_id"],
            "C.1.0(%s)" % i["serial"],
            "C.1.1(%s)" % i["manufacturer"],
            "0.2.0(%s)" % i["firmware"],
            "0.2.1(%s)" % i["config_id"],
            "0.2.2(%s)" % i["calendar_active"],
            "0.2.7(%s)" % i["calendar_passive"],
            "0.2.8(%s)" % i["fw_checksum"],
            "C.90.255(%s)" % i["config_id"],
            "C.90.0(%s)" % i["serial"],
            "C.90.1(%s)" % i["serial"][:8],
            "C.90.2(%s)" % i["serial"][8:16],
            "C.14.0(%d)" % self.rate,
            "C.5.0(00000000)",
        ]
        for k in range(4):
            lines.append("C.7.%d(%d)" % (k, self.power_failures[k]))
        for k in range(3):
            lines.append("82.8.%d(%d)" % (k + 1, self.tamper[k]))
        for c in _ENERGY_C:
            unit = "kWh" if c in (1, 2, 15, 16, 21, 22, 41, 42, 61, 62, 128) else ("kVAh" if c == 9 else "kvarh")
            e = self.energy[str(c)]
            for r in range(7):
                lines.append("%d.8.%d(%011.3f*%s)" % (c, r, e[r] / 1000, unit))
        tp = tq = 0.0
        for ph, (u, cur, pf, p, q) in enumerate(inst):
            b = 20 * ph
            tp += p
            tq += q
            lines.append("%d.7.0(%05.1f*V)" % (32 + b, u))
            lines.append("%d.7.0(%06.2f*A)" % (31 + b, cur))
            lines.append("%d.7.0(%5.3f)" % (33 + b, pf))
            lines.append("%d.7.0(%07.3f*kW)" % (21 + b, max(p, 0.0) / 1000))
            lines.append("%d.7.0(%07.3f*kW)" % (22 + b, max(-p, 0.0) / 1000))
            lines.append("%d.7.0(%07.3f*kvar)" % (23 + b, q / 1000))
            lines.append("%d.7.0(%07.3f*kW)" % (35 + b, abs(p) / 1000))
            lines.append("%d.7.0(%07.3f*kW)" % (36 + b, p / 1000))
            lines.append("%d.7.0(%07.3f*kvar)" % (151 + b, q / 1000))
        apparent = sum(x[0] * x[1] for x in inst)
        lines.append("13.7.0(%5.3f)" % (min(1.0, abs(tp) / apparent) if apparent else 1.0))
        lines.append("14.7.0(%06.3f*Hz)" % self.frequency())
        lines.append("1.7.0(%07.3f*kW)" % (max(tp, 0.0) / 1000))
        lines.append("2.7.0(%07.3f*kW)" % (max(-tp, 0.0) / 1000))
        lines.append("15.7.0(%07.3f*kW)" % (abs(tp) / 1000))
        lines.append("16.7.0(%07.3f*kW)" % (tp / 1000))
        lines.append("131.7.0(%07.3f*kvar)" % (tq / 1000))
        return lines

    async def _read_line(self, sr, limit=128):
        line = b""
        while not line.endswith(b"\r\n"):
            b = await sr.read(1)
            if not b:
                continue
            line += b
            if len(line) > limit:
                return None
        return line

    def _sign_on(self, line):
        # /?!<CR><LF> or /?<address>!<CR><LF>; only our address, or none, wakes us.
        if not line.startswith(b"/?") or not line.endswith(b"!\r\n"):
            return False
        addr = line[2:-3].decode()
        return addr == "" or addr.lstrip("0") == self.id["serial"].lstrip("0")

    async def _send(self, data):
        self.uart.write(data)
        # Let the bytes leave before the framing may change.
        await asyncio.sleep_ms(int(len(data) * self.uart._char_ms) + 1)

    async def run(self):
        sr = asyncio.StreamReader(self.uart)
        while True:
            line = await self._read_line(sr)
            if self.fault == "silent":
                continue
            if self.fault == "garbage" and line:
                await asyncio.sleep_ms(200)
                await self._send(bytes((x * 37 + 11) & 0x7F for x in range(len(line) * 7)))
                continue
            if line is None or not self._sign_on(line):
                if line:
                    self.errors += 1
                continue
            await asyncio.sleep_ms(200)  # tr: the meter's reaction time, 200 ms in mode C
            await self._send(b"/" + self.id["manufacturer"].encode() + b"5" + self.id["ident"].encode() + b"\r\n")
            try:
                ack = await asyncio.wait_for_ms(self._read_line(sr, 16), 2000)
            except asyncio.TimeoutError:
                ack = None
            baud = 300
            if ack and len(ack) == 6 and ack[0] == _ACK and ack[2] in b"012345" and ack[3] == ord("0"):
                baud = _BAUDS[_BAUD_CHARS.index(chr(ack[2]))]
            elif ack is not None:
                self.errors += 1
                continue
            # No acknowledgement within the time-out: read out at 300 baud (clause 6.3.3).
            await asyncio.sleep_ms(300)
            self.uart.init(baudrate=baud, bits=7, parity=0, stop=1)
            body = ("\r\n".join(self.readout_lines()) + "\r\n!\r\n").encode() + bytes((_ETX,))
            bcc = 0
            for b in body:
                bcc ^= b
            await self._send(bytes((_STX,)) + body + bytes((bcc,)))
            self.readouts += 1
            self.uart.init(**_IDLE)

    def status(self):
        self.integrate()
        inst = self.instant()
        return {
            "serial": self.id["serial"],
            "rate": self.rate,
            "A+_kWh": round(self.energy["1"][0] / 1000, 3),
            "P_W": round(sum(x[3] for x in inst), 1),
            "U_V": [round(x[0], 1) for x in inst],
            "I_A": [round(x[1], 2) for x in inst],
            "power_failures": self.power_failures,
            "readouts": self.readouts,
            "errors": self.errors,
            "fault": self.fault,
            "uart": self.uart.stats(),
        }
