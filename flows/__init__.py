"""Prefect flows: thin layers over the library that schedule, retry and log its steps.

Prefect must never try to reach the internet from here, so its telemetry is switched off
before it is first imported; anything importing `flows` gets these defaults.
"""

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# A fresh PREFECT_HOME takes ~20 s to migrate its database on first start.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
