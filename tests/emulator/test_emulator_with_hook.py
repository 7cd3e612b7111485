"""The provider's hook reads every resource from the emulator, in JSON and in XML, with the same result."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_hook_reads_every_resource(emulator, heywatch_connection, media_server, sample_video, fmt):
    from airflow_heywatch.hooks.heywatch import HeyWatchHook

    conn_id = heywatch_connection(emulator.base_url, emulator.login, emulator.password, format=fmt)
    hook = HeyWatchHook(heywatch_conn_id=conn_id)
    assert hook.test_connection()[0] is True
    assert hook.get_account()["login"] == emulator.login

    download = hook.create_download(media_server.add(sample_video, "hook.mp4"), format_id="2020")
    assert download["status"] == "pending" and isinstance(download["id"], int)

    import time

    deadline = time.monotonic() + 60
    while True:
        jobs = hook.list_jobs()
        if jobs and all(j["status"] == "finished" for j in jobs):
            break
        assert time.monotonic() < deadline, jobs
        time.sleep(0.2)

    download = hook.get_download(download["id"])
    assert download["status"] == "finished" and download["progress"]["percent"] == 100
    assert hook.list_downloads() == [download]
    video = hook.get_video(download["video_id"])
    assert video["specs"]["video"]["width"] == 320 and hook.list_videos() == [video]
    (job,) = jobs
    assert hook.get_job(job["id"]) == job and job["format_id"] == 2020
    encoded = hook.get_encoded_video(job["encoded_video_id"])
    assert encoded["specs"]["format_id"] == "2020" and hook.list_encoded_videos() == [encoded]
    assert hook.get_format(31)["container"] == "flv"
    assert {f["id"] for f in hook.list_formats()} >= {31, 175}
    created = hook.create_format(name="Mine", container="mp4", video_codec="h264", width=320, height=240)
    assert created["owner"] is True and hook.get_format(created["id"]) == created
    hook.delete_encoded_video(encoded["id"])
    hook.delete_video(video["id"])
    hook.delete_download(download["id"])
    assert hook.list_downloads() == [] and hook.list_videos() == [] and hook.list_encoded_videos() == []
