"""Calendar arithmetic against CPython's datetime, across the whole range a meter can see."""
import datetime
import os

from hypothesis import given, settings, strategies as st

from firmware import caltime

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


@settings(derandomize=True, max_examples=EXAMPLES, deadline=None)
@given(st.datetimes(min_value=datetime.datetime(1900, 1, 1), max_value=datetime.datetime(2399, 12, 31, 23, 59, 59)))
def test_round_trip_against_datetime(dt):
    dt = dt.replace(microsecond=0, tzinfo=datetime.timezone.utc)
    secs = int((dt - EPOCH).total_seconds())
    assert caltime.to_secs(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second) == secs
    y, mo, d, h, mi, s, wd = caltime.from_secs(secs)
    assert (y, mo, d, h, mi, s) == (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second)
    assert wd == dt.isoweekday()  # DLMS: 1 = Monday .. 7 = Sunday


def test_known_days():
    assert caltime.to_secs(2000, 1, 1) == 946684800
    assert caltime.from_secs(0)[6] == 4  # 1970-01-01 was a Thursday
    assert caltime.days_in_month(2024, 2) == 29 and caltime.days_in_month(2100, 2) == 28
    assert caltime.days_in_month(2000, 2) == 29 and caltime.days_in_month(2026, 11) == 30
