"""Append-only rings of fixed-size records on littlefs2: sequence number and CRC-16/X.25 per record (design.md, storage)."""
# On flash a ring is a folder of segment files of one flash block each.
# A record is
#     u32 sequence number (big-endian) | payload, zero-padded | u16 CRC (big-endian)
# with the CRC-16/X.25 of everything before it. Segment file "B" holds the
# records B, B+1, ... B+per-1 at slots 0..per-1, where per = block // record
# and B is a multiple of per, so where a record lives follows from its
# sequence number alone: no index in RAM, no index on flash. A record counts
# only when its CRC is right and it carries the number of its slot, so a
# torn, stale, shifted or foreign record is skipped, never returned.
#
# An append opens the newest segment, writes one record and closes it:
# littlefs commits a file's data on close, so after a power cut the file
# holds the records before the one in flight, whole. A new segment is made
# by opening it (littlefs commits the empty file at once); a cut before the
# first record lands leaves an empty newest segment, which is a valid state,
# so no temporary file is needed. The oldest segment is deleted just before
# a new one is made, and a ring keeps ceil(capacity / per) + 1 segments:
# the full ones hold at least `capacity` records at every moment.
#
# clear() creates the empty file "c<F>" (F: the next segment boundary) and
# then deletes the segments: records below the highest marker are forgotten,
# so a clear cut half-way is complete at the next start, and the marker is
# what keeps sequence numbers going up while the ring is empty.
#
# Opening lists the folder (names only), stats the newest segment (its size
# says how many slots are used) and reads from its end back to the last good
# record and from the oldest segment forward to the first good one: two
# record reads when the ring is healthy. Anything else in the folder, bad
# records and unreadable segments are counted in stats(), never raised.
import os
from array import array

from firmware.compat import const
from firmware.crc16 import crc16_x25

_HDR = const(4)  # u32 sequence number
_OVERHEAD = const(6)  # header + u16 CRC
_S_IFDIR = const(0x4000)
_S_IFMT = const(0xF000)
_TRIES = const(4)  # an append steps over up to three folders squatting on segment names
# counters for stats(), one array rather than seven attributes (an instance's
# attribute table is most of a ring's RAM)
_BAD = const(0)  # bad records met (torn, stale, foreign, flipped bits)
_UNREADABLE = const(1)  # segment files or folder entries that failed to read or delete
_FOREIGN = const(2)  # entries at open that are not the ring's
_CLEANED = const(3)  # files deleted at open: stale markers, segments an interrupted clear or rotation left
_DROPPED = const(4)  # oldest segments deleted by rotation
_APPENDS = const(5)  # appends done since open
_FAILED = const(6)  # appends that raised
_COUNTERS = ("bad_records", "unreadable", "foreign", "cleaned", "dropped", "appends", "append_errors")


class RingError(Exception):
    """A ring folder that cannot be used at all (a file in its place, a path that cannot be created)."""


def _isdir(path):
    try:
        return os.stat(path)[0] & _S_IFMT == _S_IFDIR
    except OSError:
        return None  # missing


def _mkdirs(path):
    d = _isdir(path)
    if d:
        return
    if d is not None:
        raise RingError("not a folder: " + path)
    cut = path.rfind("/")
    if cut > 0:
        _mkdirs(path[:cut])
    try:
        os.mkdir(path)
    except OSError as e:
        raise RingError("cannot create %s: %r" % (path, e))


def _number(s):
    # A name we wrote: decimal digits, no sign, no leading zero (str(int)).
    if not s or (len(s) > 1 and s[0] == "0"):
        return -1
    for ch in s:
        if ch < "0" or ch > "9":
            return -1
    return int(s)


def _entries(path):
    # (name, is a folder) of each entry, without building a list on MicroPython.
    if hasattr(os, "ilistdir"):
        for e in os.ilistdir(path):
            yield e[0], e[1] == _S_IFDIR
    else:
        for n in os.listdir(path):
            yield n, _isdir(path + "/" + n)


class Ring:
    def __init__(self, path, record_size, capacity, block_size=4096):
        per = block_size // record_size
        if record_size <= _OVERHEAD or per < 1 or capacity < 1:
            raise ValueError("ring geometry")
        while len(path) > 1 and path[-1] == "/":
            path = path[:-1]
        self.path = path
        self.record_size = record_size
        self.payload_size = record_size - _OVERHEAD
        self.capacity = capacity
        self.per = per
        self.keep = (capacity + per - 1) // per + 1
        self._rec = bytearray(record_size)
        self._pay = memoryview(self._rec)[_HDR : _HDR + self.payload_size]
        self.first_seq = None
        self.last_seq = None
        self._n = array("I", bytes(4 * len(_COUNTERS)))
        _mkdirs(path)
        try:
            self._open()
        except OSError as e:  # the folder itself cannot be listed
            raise RingError("cannot open %s: %r" % (path, e))

    # -- opening ----------------------------------------------------------

    def _open(self):
        per = self.per
        floor = 0  # highest clear marker
        markers = 0
        lo = hi = -1  # oldest and newest segment base
        for name, isdir in _entries(self.path):
            if name[:1] == "c" and not isdir:
                v = _number(name[1:])
                if v >= 0 and v % per == 0:
                    markers += 1
                    floor = max(floor, v)
                    continue
            v = _number(name)
            if v >= 0 and v % per == 0 and not isdir:
                lo = v if lo < 0 else min(lo, v)
                hi = max(hi, v)
                continue
            self._n[_FOREIGN] += 1  # left alone: only names of the two forms above are the ring's
        # Whatever an interrupted clear or rotation left behind, or what a
        # smaller capacity no longer keeps, goes now.
        if markers > 1 or 0 <= lo < floor or (lo >= 0 and lo <= hi - self.keep * per):
            lo = self._cleanup(floor, hi - (self.keep - 1) * per)
            if lo < 0:
                hi = -1
        self._floor = floor
        nxt = floor
        self._tail = False  # the segment holding _next exists and ends at its slot
        if hi >= 0:
            try:
                size = os.stat(self._name(hi))[6]
            except OSError:
                size = per * self.record_size
                self._n[_UNREADABLE] += 1
            used = (size + self.record_size - 1) // self.record_size
            if size % self.record_size or used >= per:
                used = per  # a partial record or an overlong file: append in the next segment
            else:
                self._tail = True
            nxt = max(nxt, hi + used)
            self.last_seq = self._back(hi, used, lo)
            if self.last_seq is not None:
                self.first_seq = self._forward(lo, self.last_seq)
        self._next = nxt
        self._lo = lo  # oldest segment that may exist (-1: none)
        self._hi = hi  # newest segment that may exist

    def _cleanup(self, floor, keep_from):
        # Deletes stale markers, segments under the clear floor and segments
        # beyond the ring's keep; returns the oldest segment left (-1: none).
        per = self.per
        doomed = []
        lo = -1
        for name, isdir in _entries(self.path):
            if isdir:
                continue
            if name[:1] == "c":
                v = _number(name[1:])
                if v >= 0 and v % per == 0 and v < floor:
                    doomed.append(name)
                continue
            v = _number(name)
            if v < 0 or v % per:
                continue
            if v < floor or v < keep_from:
                doomed.append(name)
            elif lo < 0 or v < lo:
                lo = v
        for name in doomed:
            try:
                os.remove(self.path + "/" + name)
                self._n[_CLEANED] += 1
            except OSError:
                self._n[_UNREADABLE] += 1
        return lo

    def _back(self, base, used, lo):
        # The last good record, reading backwards from slot used-1 of segment base.
        floor = self._floor
        while base >= lo and base + self.per > floor:
            f = self._seg(base)
            if f is not None:
                try:
                    for slot in range(used - 1, -1, -1):
                        seq = base + slot
                        if seq < floor:
                            break
                        if self._load(f, slot, seq) > 0:
                            return seq
                finally:
                    f.close()
            base -= self.per
            used = self.per
        return None

    def _forward(self, seq, last):
        # The first good record in seq..last, None if there is none; it is left in _rec.
        per = self.per
        seq = max(seq, self._floor)
        while seq <= last:
            base = seq - seq % per
            f = self._seg(base)
            if f is not None:
                try:
                    while seq <= last and seq < base + per:
                        got = self._load(f, seq - base, seq)
                        if got > 0:
                            return seq
                        if got < 0:
                            break  # the file ends here
                        seq += 1
                finally:
                    f.close()
            seq = base + per
        return None

    # -- records -------------------------------------------------------------

    def _name(self, base):
        return self.path + "/" + str(base)

    def _seg(self, base):
        try:
            return open(self._name(base), "rb")
        except OSError:
            return None  # missing (dropped, never written) or unreadable

    def _load(self, f, slot, seq):
        # Reads slot into _rec: 1 good, 0 bad (counted), -1 past the end of the file.
        try:
            f.seek(slot * self.record_size)
            n = f.readinto(self._rec)
        except OSError:
            self._n[_UNREADABLE] += 1
            return -1
        if not n:
            return -1
        if n == self.record_size and _valid(self._rec, 0, self.record_size, seq):
            return 1
        self._n[_BAD] += 1
        return 0 if n == self.record_size else -1

    def append(self, payload):
        n = len(payload)
        ps = self.payload_size
        if n > ps:
            raise ValueError("payload longer than %d" % ps)
        r = self._rec
        per = self.per
        tries = _TRIES
        while True:
            seq = self._next
            slot = seq % per
            if slot == 0 or not self._tail:
                if slot:
                    seq += per - slot  # the partial segment cannot take more: start the next one
                    slot = 0
                if tries == _TRIES:
                    self._rotate(seq)  # reads through _rec: the record is built after it
                else:
                    self._hi = seq  # stepping over a folder drops nothing more
            r[_HDR : _HDR + n] = payload
            for i in range(_HDR + n, _HDR + ps):
                r[i] = 0
            _seal(r, seq)
            base = seq - slot
            try:
                # "wb" for a new segment: it starts empty even if a failed
                # append left something under its name.
                f = open(self._name(base), "ab" if slot else "wb")
                try:
                    f.write(r)
                except Exception as e:
                    try:
                        f.close()
                    except Exception:
                        pass  # the write's error is the one to report
                    raise e
                f.close()
            except Exception as e:
                self._n[_FAILED] += 1
                tries -= 1
                if self._resync(base, seq) and tries:
                    continue
                raise e
            self._n[_APPENDS] += 1
            self._done(seq)
            return seq

    def _done(self, seq):
        self._next = seq + 1
        self._tail = True
        self.last_seq = seq
        if self.first_seq is None:
            self.first_seq = seq

    def _resync(self, base, seq):
        # After a failed append the file's size says what landed; never
        # raises. True when a folder holds the segment's name (worth a retry).
        try:
            st = os.stat(self._name(base))
        except OSError:
            self._tail = False
            return False
        rs = self.record_size
        size = st[6]
        if st[0] & _S_IFMT == _S_IFDIR or size % rs or size // rs > self.per:
            # a folder in the segment's place or a partial record: the next segment then
            self._tail = False
            self._next = max(self._next, base + self.per)
            return st[0] & _S_IFMT == _S_IFDIR
        if size // rs == seq - base + 1:
            self._done(seq)  # the record is there, whole
        else:
            self._tail = size // rs == seq - base
        return False

    def _rotate(self, base):
        # Makes room for segment base: the segments it pushes out of the keep go first.
        per = self.per
        limit = base - self.keep * per
        lo = self._lo
        if lo >= 0:
            while lo <= limit and lo <= self._hi:
                try:
                    os.remove(self._name(lo))
                    self._n[_DROPPED] += 1
                except OSError:
                    pass  # already gone (a hole left by a bad segment)
                lo += per
            if lo > self._hi:
                lo = -1
        self._lo = base if lo < 0 else lo
        self._hi = base
        if self.first_seq is not None and self.first_seq < self._lo:
            self.first_seq = self._forward(self._lo, self.last_seq)
            if self.first_seq is None:
                self.last_seq = None

    def __len__(self):
        if self.first_seq is None:
            return 0
        return self.last_seq - self.first_seq + 1

    def read(self, seq, buf):
        if self.first_seq is None or seq < self.first_seq or seq > self.last_seq:
            return False
        base = seq - seq % self.per
        f = self._seg(base)
        if f is None:
            return False
        try:
            ok = self._load(f, seq - base, seq) > 0
        finally:
            f.close()
        if ok:
            buf[: self.payload_size] = self._pay
        return ok

    def scan(self, first_seq, last_seq, buf):
        """Yields each kept seq in first_seq..last_seq (inclusive; None: the ring's end) after filling buf with its payload."""
        if self.first_seq is None:
            return
        seq = self.first_seq if first_seq is None else max(first_seq, self.first_seq)
        last = self.last_seq if last_seq is None else min(last_seq, self.last_seq)
        if seq > last:
            return
        per = self.per
        rs = self.record_size
        ps = self.payload_size
        # One segment's worth of records at a time, read whole and the file
        # closed before the first yield: appends and rotations may run while
        # the caller streams (a DLMS reply spans many requests).
        chunk = bytearray(min(per, last - seq + 1) * rs)
        cmv = memoryview(chunk)
        while seq <= last:
            base = seq - seq % per
            end = min(last, base + per - 1)
            n = 0
            f = self._seg(base)
            if f is not None:
                try:
                    f.seek((seq - base) * rs)
                    n = f.readinto(cmv[: (end - seq + 1) * rs]) or 0
                except OSError:
                    self._n[_UNREADABLE] += 1
                finally:
                    f.close()
            o = 0
            while o + rs <= n:
                if _valid(chunk, o, rs, seq):
                    j = o + _HDR
                    for i in range(ps):  # a slice of chunk would be one object per record
                        buf[i] = chunk[j + i]
                    yield seq
                else:
                    self._n[_BAD] += 1
                o += rs
                seq += 1
            if n % rs:
                self._n[_BAD] += 1
            seq = end + 1

    def bisect(self, key, offset=0):
        """First kept seq whose big-endian u32 at payload[offset:offset+4] is >= key; last_seq+1 if none."""
        if self.first_seq is None:
            return self._next
        lo = self.first_seq
        hi = best = self.last_seq + 1
        o = _HDR + offset
        r = self._rec
        while lo < hi:
            mid = (lo + hi) // 2
            m = self._forward(mid, hi - 1)  # a bad record takes the key of the next good one
            if m is None:
                hi = mid
                continue
            if ((r[o] << 24) | (r[o + 1] << 16) | (r[o + 2] << 8) | r[o + 3]) >= key:
                best = m
                hi = mid
            else:
                lo = m + 1
        return best

    def clear(self):
        """Forgets every record; sequence numbers go on from the next segment boundary."""
        per = self.per
        floor = self._next + (-self._next) % per
        f = open(self.path + "/c" + str(floor), "wb")  # from here on the clear has happened
        f.close()
        if self._floor != floor:
            try:  # the previous marker, if there was one
                os.remove(self.path + "/c" + str(self._floor))
            except OSError:
                pass
        self._floor = floor
        if self._lo >= 0:
            b = self._lo
            while b <= self._hi:
                try:
                    os.remove(self._name(b))
                except OSError:
                    pass
                b += per
        self._lo = self._hi = -1
        self._next = floor
        self._tail = False
        self.first_seq = self.last_seq = None

    def stats(self):
        d = {
            "records": len(self),
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "next_seq": self._next,
            "segments": 0 if self._lo < 0 else (self._hi - self._lo) // self.per + 1,
            "max_segments": self.keep,
            "per_segment": self.per,
            "record_size": self.record_size,
            "payload_size": self.payload_size,
            "capacity": self.capacity,
        }
        for i in range(len(_COUNTERS)):
            d[_COUNTERS[i]] = self._n[i]
        return d


def _seal(r, seq):
    # Sequence number in front, CRC-16/X.25 of everything before it at the end.
    s = seq & 0xFFFFFFFF
    r[0] = s >> 24
    r[1] = (s >> 16) & 0xFF
    r[2] = (s >> 8) & 0xFF
    r[3] = s & 0xFF
    end = len(r) - 2
    c = crc16_x25(r, 0, end)
    r[end] = c >> 8
    r[end + 1] = c & 0xFF


def _valid(b, o, rs, seq):
    # The record at b[o:o+rs] carries seq and a right CRC.
    s = seq & 0xFFFFFFFF
    if b[o] != s >> 24 or b[o + 1] != (s >> 16) & 0xFF or b[o + 2] != (s >> 8) & 0xFF or b[o + 3] != s & 0xFF:
        return False
    e = o + rs - 2
    return crc16_x25(b, o, e) == (b[e] << 8) | b[e + 1]
