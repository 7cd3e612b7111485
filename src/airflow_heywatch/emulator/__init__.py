"""A local HeyWatch v1 server: real transfers, probing, encoding, delivery and pings.

It imports no Airflow. Start it with ``heywatch-emulator`` or ``python -m airflow_heywatch.emulator``,
or in-process with :class:`airflow_heywatch.emulator.server.EmulatorServer`.
"""
