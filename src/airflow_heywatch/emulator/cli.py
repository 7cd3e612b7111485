"""``heywatch-emulator``: run the local HeyWatch v1 server until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from airflow_heywatch.emulator.config import EmulatorConfig

__all__ = ["build_parser", "main", "serve"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="heywatch-emulator",
        description="A local server that speaks the HeyWatch v1 API: it really transfers, probes, "
        "encodes and delivers videos, and sends the pings.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free port)")
    parser.add_argument(
        "--login", default="heywatch", help="Basic-auth login of the account (default heywatch)"
    )
    parser.add_argument(
        "--password",
        default=os.environ.get("HEYWATCH_EMULATOR_PASSWORD", "heywatch"),
        help="Basic-auth password of the account (default: $HEYWATCH_EMULATOR_PASSWORD, else heywatch; "
        "the variable keeps the password out of the process list)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where videos and outputs live (default: a temporary folder)",
    )
    parser.add_argument(
        "--s3-endpoint-url",
        default=None,
        help="S3-compatible endpoint for s3:// directives (e.g. a local moto)",
    )
    parser.add_argument("--s3-region", default="us-east-1", help="region for S3 delivery (default us-east-1)")
    parser.add_argument(
        "--transfer-rate",
        type=float,
        default=None,
        help="throttle every transfer to this many kilobytes per second (default: unthrottled)",
    )
    parser.add_argument("--transfer-workers", type=int, default=4, help="concurrent transfers (default 4)")
    parser.add_argument("--encode-workers", type=int, default=2, help="concurrent encodes (default 2)")
    parser.add_argument(
        "--automatic-encode",
        action="store_true",
        help="account setting: encode every download to the default format unless automatic_encode=false",
    )
    parser.add_argument(
        "--default-format", type=int, default=175, help="account's default format (default 175)"
    )
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    return parser


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    for name in ("transfer_workers", "encode_workers"):
        if getattr(args, name) < 1:
            raise SystemExit(f"heywatch-emulator: --{name.replace('_', '-')} must be at least 1")
    if args.transfer_rate is not None and args.transfer_rate <= 0:
        raise SystemExit("heywatch-emulator: --transfer-rate must be a positive number of KB/s")
    return EmulatorConfig(
        login=args.login,
        password=args.password,
        data_dir=args.data_dir,
        s3_endpoint_url=args.s3_endpoint_url,
        s3_region=args.s3_region,
        transfer_rate=args.transfer_rate,
        transfer_workers=args.transfer_workers,
        encode_workers=args.encode_workers,
        automatic_encode=args.automatic_encode,
        default_format=args.default_format,
    )


async def serve(config: EmulatorConfig, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM; prints the base URL once requests are accepted."""
    from airflow_heywatch.emulator.app import STATE, create_app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    app = create_app(config)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    bound = server.sockets[0].getsockname()[1] if server is not None and server.sockets else port
    display_host = f"[{host}]" if ":" in host else host
    base_url = f"http://{display_host}:{bound}"
    app[STATE].base_url = base_url
    print(f"HeyWatch emulator listening on {base_url}", flush=True)  # noqa: T201 - the documented startup line

    try:
        await stop.wait()
    finally:
        logging.getLogger("airflow_heywatch.emulator").info("stopping")
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(config, args.host, args.port))
    except OSError as exc:
        sys.stderr.write(
            f"heywatch-emulator: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}\n"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
