"""Embedded factory defaults (manual 4.1 and 4.2); a deployment changes them at build time or by SMS/DLMS."""
# The values a new device starts with. The SMS names (manual 4.2) are the
# keys, so `MCP CNF APN=...` maps straight onto this table.
CONFIG = {
    "APN": "internet",  # provider's access point
    "DUSR": "",  # provider user name (often empty)
    "DPWD": "",  # provider password (often empty)
    "IP": "10.0.25.30",  # server for outgoing calls (manual's example address)
    "PORT": 4059,  # remote port of outgoing calls and local DLMS port (manual 4.1)
    "RINT": 2,  # hours between outgoing calls, 0 = none
    "PWD": "HELLO",  # SMS password = meter reader's LOW secret (manual 4.1, 4.2)
    "USEC": "UTILITY1",  # LOW secret of the utility setting client 0x01 (change it at commissioning)
    "INACT": 300,  # seconds without data before a DLMS connection is dropped (manual 3.1; class 41 attr 6)
    "REGNO": "",  # module registration number 0.1.96.1.1.255
    # Clock (class 8): UTC - local standard time in minutes, and the EU
    # daylight saving rule (last Sunday of March 02:00 to last Sunday of
    # October 03:00 local), the product's home market (CET/CEST).
    "TZ": -60,
    "DST_EN": True,
    "DST_BEGIN": "ffff03fe07020000008000ff",
    "DST_END": "ffff0afe07030000008000ff",
    "DST_DEV": 60,
    # Profiles (class 7) and the demand register (class 5): periods in seconds.
    "P1_PERIOD": 900,  # 15 minutes (manual: profile 1 capture period 1.0.0.8.4.255)
    "P2_PERIOD": 3600,  # an hour (1.0.0.8.5.255)
    "DEM_PERIOD": 60,  # the sliding average moves on every minute...
    "DEM_N": 15,  # ...over the last 15 minutes (1.0.1.4.0.255)
    "PMON": [None, None],  # profile 1/2 parameter monitors: [attribute, time] of the last change
}

# Profile columns (class 7 capture_objects), kept in the settings like the rest.
from firmware.profiles import DEFAULT_COLUMNS  # noqa: E402

CONFIG.update(DEFAULT_COLUMNS)

FIRMWARE_VERSION = "1.0.0.0.1"  # five-digit versioning, odd last digit = debug build (manual 2.2)
MANUFACTURER = "TNX"  # the module maker's three-letter FLAG id, for the logical device name
