"""The one-command demo (``make demo``): ``heywatch_ingest`` end to end against the local emulator.

See :mod:`demo.run` for the steps; :mod:`demo.verify` holds the checks, which the test suite reuses.
"""
