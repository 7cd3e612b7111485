"""``python -m airflow_heywatch.emulator``."""

import sys

from airflow_heywatch.emulator.cli import main

sys.exit(main())
