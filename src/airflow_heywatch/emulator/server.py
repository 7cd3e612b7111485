"""Run the emulator (or any aiohttp app) in-process: a background thread with its own event loop.

Typical use from tests or the demo::

    with EmulatorServer() as server:
        requests.get(f"{server.base_url}/account.json", auth=(server.login, server.password))
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from airflow_heywatch.emulator.config import EmulatorConfig

__all__ = ["BackgroundServer", "EmulatorServer"]

T = TypeVar("T")


class BackgroundServer:
    """Serve an aiohttp application on ``host:port`` from a daemon thread.

    ``app_factory`` is called inside the server's event loop (so that loop-bound objects are
    created there). ``port=0`` picks a free port; ``base_url`` tells which.
    """

    def __init__(
        self, app_factory: Callable[[], web.Application], host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._app_factory = app_factory
        self.host = host
        self.port = port
        self.app: web.Application | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> BackgroundServer:
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name=f"aiohttp-{id(self):x}", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None:
            raise RuntimeError(f"server failed to start: {self._error}") from self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._startup())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._shutdown())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _startup(self) -> None:
        self.app = self._app_factory()
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        server = site._server
        if server is not None and getattr(server, "sockets", None):
            self.port = server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def call(self, coro_factory: Callable[[], Coroutine[Any, Any, T]], timeout: float = 30) -> T:
        """Run a coroutine on the server's loop from another thread and return its result."""
        if self._loop is None:
            raise RuntimeError("server is not running")
        return asyncio.run_coroutine_threadsafe(coro_factory(), self._loop).result(timeout)

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._thread = None
        self._loop = None

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class EmulatorServer(BackgroundServer):
    """The HeyWatch emulator in a background thread (``start()`` / ``stop()`` / context manager).

    Attributes: ``base_url``, ``login``, ``password``, ``config`` (an :class:`EmulatorConfig`
    whose runtime settings may be changed while it runs), ``data_dir``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        login: str = "heywatch",
        password: str = "heywatch",
        data_dir: str | Path | None = None,
        config: EmulatorConfig | None = None,
        **settings: Any,
    ) -> None:
        if config is None:
            config = EmulatorConfig(
                login=login,
                password=password,
                data_dir=Path(data_dir) if data_dir is not None else None,
                **settings,
            )
        self.config = config
        super().__init__(self._make_app, host=host, port=port)

    def _make_app(self) -> web.Application:
        from airflow_heywatch.emulator.app import create_app

        return create_app(self.config)

    async def _startup(self) -> None:
        from airflow_heywatch.emulator.app import STATE

        await super()._startup()
        if self.app is not None:
            self.app[STATE].base_url = self.base_url

    @property
    def login(self) -> str:
        return self.config.login

    @property
    def password(self) -> str:
        return self.config.password

    @property
    def auth(self) -> tuple[str, str]:
        """``(login, password)`` for ``requests``' ``auth=``."""
        return (self.config.login, self.config.password)

    @property
    def data_dir(self) -> Path:
        from airflow_heywatch.emulator.app import STATE

        if self.app is None:
            raise RuntimeError("emulator is not running")
        return self.app[STATE].data_dir

    def reset(self) -> None:
        """Forget every download, video, job, encoded video, custom format and fault."""
        from airflow_heywatch.emulator.app import STATE

        if self.app is None:
            raise RuntimeError("emulator is not running")
        state = self.app[STATE]
        self.call(state.reset)

    def __enter__(self) -> EmulatorServer:
        self.start()
        return self
