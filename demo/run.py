"""The demo, step by step: ``python -m demo`` (``make demo``).

1. Generate a short real clip (H.264 test pattern + AAC tone) with PyAV.
2. Start, on 127.0.0.1 and free ports: an HTTP server for the clip, an FTP server for the
   deliveries, a ping receiver, and the HeyWatch emulator (``heywatch-emulator --port 0``).
3. Create a throwaway Airflow home (SQLite) and point ``heywatch_default`` at the emulator and
   ``heywatch_ftp_destination`` at the FTP server.
4. Run ``airflow dags test heywatch_ingest`` while printing transfer and encode progress.
5. Check everything from the outside (see :mod:`demo.verify`), print the summary, and stop every
   server and process it started. Exit status 0 only if every check passed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from demo.airflow_home import (
    DAGS_FOLDER,
    airflow_command,
    airflow_env,
    airflow_major_version,
    connections_env,
    finish_migration,
    start_migration,
    write_dags_to_database,
)
from demo.processes import ManagedProcess
from demo.servers import FtpServer, MediaServer, PingReceiver
from demo.summary import render
from demo.verify import Report, collect_downloads, open_media, recorded_asset_events, verify

DAG_ID = "heywatch_ingest"


class DemoError(Exception):
    """A step failed; the message says which and where its log is."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of the generated clip (default 3)")
    parser.add_argument(
        "--sources", type=int, default=1, help="how many source videos the DAG run ingests (default 1)"
    )
    parser.add_argument(
        "--transfer-rate",
        type=float,
        default=100.0,
        help="throttle the emulator's transfers to this many KB/s, so that the transfer progress shows "
        "(default 100; 0 = unthrottled)",
    )
    parser.add_argument(
        "--api-format",
        choices=("json", "xml"),
        default="json",
        help="the format the provider talks to HeyWatch in (connection extra 'format'; default json)",
    )
    parser.add_argument("--timeout", type=float, default=170.0, help="limit for the DAG run in seconds")
    parser.add_argument("--keep", action="store_true", help="keep the workspace (logs, files) afterwards")
    return parser.parse_args(argv)


_STARTED = time.monotonic()


def step(message: str) -> None:
    print(f"==> [{time.monotonic() - _STARTED:5.1f} s] {message}", flush=True)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP stop the demo like Ctrl-C: through the ``finally`` blocks that clean up."""
    previous = {sig: signal.signal(sig, _raise_interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    workspace = Path(tempfile.mkdtemp(prefix="heywatch-demo-"))
    code = 1
    try:
        with _signals_interrupt(), contextlib.ExitStack() as stack:
            report = _run(args, workspace, stack)
            print(render(report, elapsed=time.monotonic() - started), flush=True)
            code = 0 if report.ok else 1
            step("Stopping the servers and processes")
    except KeyboardInterrupt:
        print("\nInterrupted: everything the demo started has been stopped.", file=sys.stderr)
        code = 130
    except DemoError as exc:
        print(f"\nDemo FAILED: {exc}", file=sys.stderr)
        code = 1
    finally:
        if args.keep or code == 1:  # a failure keeps every log for a look
            print(f"Workspace kept: {workspace}", flush=True)
        else:
            shutil.rmtree(workspace, ignore_errors=True)
    return code


def _run(args: argparse.Namespace, workspace: Path, stack: contextlib.ExitStack) -> Report:
    logs = workspace / "logs"
    logs.mkdir()

    step("Initialising a throwaway Airflow home (SQLite) in the background")
    env = airflow_env(workspace / "airflow-home")
    migration = start_migration(env, logs / "airflow-db-migrate.log")
    stack.callback(migration.stop)
    print(f"    AIRFLOW_HOME={env['AIRFLOW_HOME']}\n    dags folder {DAGS_FOLDER}")

    step(f"Generating a {args.seconds:g}-second test clip (H.264 video + AAC audio) with PyAV")
    from airflow_heywatch.emulator.media import generate_sample_video

    media_dir = workspace / "media"
    names = [f"source-{i + 1}.mp4" for i in range(args.sources)]
    generate_sample_video(media_dir / names[0], seconds=args.seconds)
    for name in names[1:]:
        shutil.copyfile(media_dir / names[0], media_dir / name)
    source = open_media(media_dir / names[0])
    print(
        f"    {names[0]}: {source.width}x{source.height} {source.video_codec} + {source.audio_codec}, "
        f"{source.duration:.2f} s, {source.size_bytes / 1024:.1f} KB"
    )

    step("Starting the local servers (127.0.0.1, free ports)")
    media = stack.enter_context(MediaServer(media_dir))
    ftp_login, ftp_password = "demo-delivery", secrets.token_urlsafe(12)
    ftp = stack.enter_context(FtpServer(workspace / "ftp", login=ftp_login, password=ftp_password))
    pings = stack.enter_context(PingReceiver())
    print(f"    media     {media.base_url}/")
    print(f"    ftp       ftp://127.0.0.1:{ftp.port}/")
    print(f"    pings     {pings.base_url}/")
    emulator_login, emulator_password = "demo-account", secrets.token_urlsafe(12)
    emulator_url = _start_emulator(args, workspace, emulator_login, emulator_password, logs, stack)
    print(f"    emulator  {emulator_url}/  (heywatch-emulator --port 0)")

    env.update(
        connections_env(
            heywatch_url=emulator_url,
            heywatch_login=emulator_login,
            heywatch_password=emulator_password,
            ftp_port=ftp.port,
            ftp_login=ftp_login,
            ftp_password=ftp_password,
            api_format=args.api_format,
        )
    )
    os.environ.update(env)  # this process reads the same database and connections
    try:
        finish_migration(migration)
        if airflow_major_version() < 3:
            write_dags_to_database(env, logs / "airflow-dags-reserialize.log")
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        raise DemoError(str(exc)) from exc
    print("    metadata database ready; connections heywatch_default and heywatch_ftp_destination set")

    conf = {"source_urls": [media.url_for(n) for n in names], "ping_base_url": f"{pings.base_url}/heywatch"}
    step(f"Running `airflow dags test {DAG_ID}`: {len(names)} source(s) -> FLV (31) + MP4 (175) over FTP")
    dag_test = _run_dag_test(conf, env, logs / "airflow-dags-test.log", args.timeout, stack)

    step("Checking the results from the outside")
    return _check(dag_test, ftp.root, pings, len(names), source.duration, [ftp_password, emulator_password])


def _start_emulator(
    args: argparse.Namespace,
    workspace: Path,
    login: str,
    password: str,
    logs: Path,
    stack: contextlib.ExitStack,
) -> str:
    command = [
        sys.executable,
        "-m",
        "airflow_heywatch.emulator",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        f"--login={login}",
        f"--password={password}",  # "=": a generated password may start with "-"
        f"--data-dir={workspace / 'emulator'}",
    ]
    if args.transfer_rate:
        command += ["--transfer-rate", str(args.transfer_rate)]
    emulator = ManagedProcess("heywatch-emulator", command, os.environ, logs / "emulator.log")
    stack.callback(emulator.stop)
    try:
        return emulator.wait_for_url(timeout=60)
    except (RuntimeError, TimeoutError) as exc:
        raise DemoError(f"the emulator did not start: {exc}") from exc


def _run_dag_test(
    conf: dict[str, Any], env: dict[str, str], log_path: Path, timeout: float, stack: contextlib.ExitStack
) -> tuple[int, Path]:
    process = ManagedProcess(
        "airflow dags test",
        airflow_command("dags", "test", DAG_ID, "--conf", json.dumps(conf)),
        {**os.environ, **env},
        log_path,
    )
    stack.callback(process.stop)
    print(f"    (Airflow's own log: {log_path})", flush=True)

    from airflow_heywatch.hooks.heywatch import HeyWatchHook
    from demo.progress import ProgressPrinter

    print(
        "    Airflow is starting: parsing the DAGs, creating the run, starting its in-process API…",
        flush=True,
    )
    progress = ProgressPrinter(
        HeyWatchHook(heywatch_conn_id="heywatch_default"), started=_STARTED, log_path=log_path
    ).start()
    try:
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise DemoError(
                f"the DAG run took longer than {timeout:.0f} s; log: {log_path}\n{process.log_tail()}"
            ) from exc
    finally:
        progress.stop()
    print(f"    airflow dags test exited with {returncode}")
    if returncode != 0:
        print(process.log_tail(60))
    return returncode, log_path


def _dag_run_state(dag_id: str) -> tuple[str | None, str | None]:
    """The run id and state of the latest run of ``dag_id`` in the metadata database."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.query(DagRun).filter(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).first()
        if run is None:
            return None, None
        state = run.state.value if hasattr(run.state, "value") else run.state
        return run.run_id, str(state)


def _check(
    dag_test: tuple[int, Path],
    ftp_root: Path,
    pings: PingReceiver,
    sources: int,
    source_duration: float,
    secret_values: list[str],
) -> Report:
    from heywatch_delivery import OUTPUT_FOLDERS

    from airflow_heywatch.hooks.heywatch import HeyWatchHook

    returncode, log_path = dag_test
    run_id, state = _dag_run_state(DAG_ID)
    with HeyWatchHook(heywatch_conn_id="heywatch_default") as hook:
        downloads = collect_downloads(hook)
    report = verify(
        downloads,
        expected_format_ids=list(OUTPUT_FOLDERS),
        ftp_root=ftp_root,
        pings=pings.received(),
        asset_events=recorded_asset_events(DAG_ID, run_id) if run_id else [],
        expected_downloads=sources,
        source_duration=source_duration,
    )
    run = Report(downloads=[], pings=[], asset_events=[])  # the run's own checks, listed first
    run.check("airflow dags test", returncode == 0, f"exit status {returncode}")
    run.check("DAG run", state == "success", f"run {run_id}: {state}")
    logs = [log_path, *Path(os.environ["AIRFLOW_HOME"], "logs").rglob("*")]
    leaked = [
        p for p in logs if p.is_file() and any(s in p.read_text(errors="replace") for s in secret_values)
    ]
    run.check(
        "secrets masked in logs",
        not leaked,
        f"{len(logs)} log file(s) searched for the FTP and HeyWatch passwords"
        + (f"; found in {', '.join(str(p) for p in leaked)}" if leaked else ""),
    )
    report.checks[:0] = run.checks
    return report


def _prepare_import_path() -> None:
    """The DAG folder's shared module (``heywatch_delivery``) names the expected formats."""
    if str(DAGS_FOLDER) not in sys.path:
        sys.path.insert(0, str(DAGS_FOLDER))


_prepare_import_path()
