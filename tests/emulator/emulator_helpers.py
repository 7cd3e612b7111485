"""Small helpers shared by the emulator tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests

T = TypeVar("T")


class Api:
    """A ``requests`` client for one emulator: ``api.get("/download.json")`` etc., with auth."""

    def __init__(self, base_url: str, auth: tuple[str, str] | None) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.auth = auth

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        kwargs.setdefault("allow_redirects", False)
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        return self.session.request(method, url, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def json(self, path: str) -> Any:
        response = self.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def control(self, method: str, action: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.base_url}/_emulator/{action}", timeout=30, **kwargs)

    def wait_download(self, download_id: int, *, jobs: int = 0, timeout: float = 60) -> dict[str, Any]:
        """Wait until the download (and ``jobs`` jobs of it) reached a final state; return the state."""

        def done() -> dict[str, Any] | None:
            download = self.json(f"/download/{download_id}.json")
            if download["status"] not in ("finished", "error"):
                return None
            all_jobs = [j for j in self.json("/job.json") if j["video_id"] == download["video_id"]]
            if download["status"] == "finished" and (
                len(all_jobs) < jobs or any(j["status"] not in ("finished", "error") for j in all_jobs)
            ):
                return None
            return {"download": download, "jobs": sorted(all_jobs, key=lambda j: j["id"])}

        return wait_until(done, timeout=timeout, what=f"download {download_id} to finish")


def wait_until(check: Callable[[], T | None], *, timeout: float = 30, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)
