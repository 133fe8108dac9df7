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
}

FIRMWARE_VERSION = "1.0.0.0.1"  # five-digit versioning, odd last digit = debug build (manual 2.2)
MANUFACTURER = "TNX"  # the module maker's three-letter FLAG id, for the logical device name
