"""``python -m demo``: run the ingestion DAG end to end against the local HeyWatch emulator."""

from __future__ import annotations

import sys

from demo.run import main

if __name__ == "__main__":
    sys.exit(main())
