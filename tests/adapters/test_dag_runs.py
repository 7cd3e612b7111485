"""Real DAG runs (``dag.test()``) of the operator and the sensor against the HeyWatch emulator.

Each DAG transfers a real 2-second clip from a local HTTP server, encodes it with the emulator
and delivers the results to a local FTP (and S3) server.
"""

from __future__ import annotations

import datetime
import itertools
import json

import pytest
import requests
from airflow.providers.common.compat.sdk import DAG

from airflow_heywatch.links.heywatch import HeyWatchDownloadLink
from airflow_heywatch.operators.download import HeyWatchCreateDownloadOperator
from airflow_heywatch.sensors.download import HeyWatchDownloadSensor
from fixtures.airflow_env import AIRFLOW_3
from fixtures.servers import EMULATOR_PASSWORD, FTP_PASSWORD, S3_SECRET_KEY

pytestmark = [pytest.mark.integration, pytest.mark.dag, pytest.mark.timeout(240)]

START = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
_ids = itertools.count(1)
AIRFLOW_3_3 = tuple(int(part) for part in __import__("airflow").__version__.split(".")[:2]) >= (3, 3)
MEANING_201 = "error 201 (404 Not Found (source URL gave 404))"


def _dag_id(name: str) -> str:
    return f"heywatch_test_{name}_{next(_ids)}"


@pytest.fixture
def env(emulator, heywatch_connection, dag_runner, media_server, sample_video, ftp_server):
    """Everything a DAG run needs: the emulator behind ``heywatch_default``, a source, an FTP."""
    heywatch_connection(emulator.base_url, emulator.login, emulator.password)

    class Env:
        pass

    e = Env()
    e.emulator, e.run, e.ftp = emulator, dag_runner, ftp_server
    e.source_url = media_server.add(sample_video, "clip.mp4")
    e.missing_url = media_server.url_for("missing.mp4")
    e.outputs = [
        {"format_id": 31, "ftp_directive": ftp_server.url("/videos/flv/")},
        {"format_id": 175, "ftp_directive": ftp_server.url("/videos/mp4/")},
    ]
    return e


def _downloads(emulator) -> list[dict]:
    response = requests.get(f"{emulator.base_url}/download.json", auth=emulator.auth, timeout=10)
    response.raise_for_status()
    return response.json()


def _fault(emulator, **spec) -> None:
    response = requests.post(f"{emulator.base_url}/_emulator/faults", json=spec, timeout=10)
    assert response.status_code == 201, response.text


def _assert_two_encoded_videos(videos: list[dict]) -> None:
    assert [video["format_id"] for video in videos] == [31, 175]
    assert [video["filename"].rsplit(".", 1)[-1] for video in videos] == ["flv", "mp4"]
    for video in videos:
        assert set(video) == {
            "id",
            "job_id",
            "video_id",
            "format_id",
            "format_name",
            "filename",
            "link",
            "size",
        }
        assert video["size"] and video["link"]


# ----------------------------------------------------------------------------------------------
# The acceptance DAG: operator (two FTP outputs) → sensor (wait_for_encoding, deferrable)
# ----------------------------------------------------------------------------------------------
def _submit_then_sense(dag_id: str, url: str, outputs: list[dict], **sensor_kwargs) -> DAG:
    with DAG(dag_id, schedule=None, start_date=START, catchup=False) as dag:
        submit = HeyWatchCreateDownloadOperator(task_id="submit", url=url, title="clip", outputs=outputs)
        sensor_kwargs.setdefault("deferrable", True)
        HeyWatchDownloadSensor(
            task_id="wait",
            download_id=submit.output,
            wait_for_encoding=True,
            poke_interval=0.5,
            timeout=120,
            **sensor_kwargs,
        )
    return dag


def test_operator_then_deferrable_sensor_lists_both_encoded_videos_in_order(env):
    result = env.run(_submit_then_sense(_dag_id("accept"), env.source_url, env.outputs))
    assert result.state == "success", result.output[-5000:]
    created = result.xcom("submit")
    assert created["format_ids"] == [31, 175]
    assert result.xcom("submit", "download_id") == created["id"]
    waited = result.xcom("wait")
    assert waited["id"] == created["id"] and waited["status"] == "finished"
    _assert_two_encoded_videos(waited["encoded_videos"])
    delivered = env.ftp.files()
    assert any(name.startswith("videos/flv/") and name.endswith(".flv") for name in delivered), delivered
    assert any(name.startswith("videos/mp4/") and name.endswith(".mp4") for name in delivered), delivered
    assert len(_downloads(env.emulator)) == 1


def test_source_that_404s_fails_the_sensor_with_code_201_and_its_meaning(env):
    result = env.run(_submit_then_sense(_dag_id("missing"), env.missing_url, env.outputs))
    assert result.state == "failed"
    assert result.state_of("submit") == "success"
    assert result.state_of("wait") == "failed"
    assert MEANING_201 in result.output


@pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferrable"])
def test_soft_fail_skips_the_sensor_when_the_download_fails(env, deferrable):
    result = env.run(
        _submit_then_sense(
            _dag_id("softfail"), env.missing_url, env.outputs, soft_fail=True, deferrable=deferrable
        )
    )
    assert result.state_of("wait") == "skipped"


# ----------------------------------------------------------------------------------------------
# The sensor: same outcome in poke, reschedule and deferrable modes
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "mode_kwargs",
    [{"mode": "poke"}, {"mode": "reschedule"}, {"deferrable": True}],
    ids=["poke", "reschedule", "deferrable"],
)
def test_sensor_modes_have_the_same_outcome(env, mode_kwargs):
    result = env.run(_submit_then_sense(_dag_id("mode"), env.source_url, env.outputs, **mode_kwargs))
    assert result.state == "success", result.output[-5000:]
    _assert_two_encoded_videos(result.xcom("wait")["encoded_videos"])


@pytest.mark.parametrize(
    "mode_kwargs",
    [{"mode": "poke"}, {"mode": "reschedule"}, {"deferrable": True}],
    ids=["poke", "reschedule", "deferrable"],
)
def test_sensor_timeout_is_honoured_in_every_mode(env, mode_kwargs):
    requests.post(f"{env.emulator.base_url}/_emulator/pipeline", json={"paused": True}, timeout=10)
    with DAG(_dag_id("timeout"), schedule=None, start_date=START, catchup=False) as dag:
        submit = HeyWatchCreateDownloadOperator(task_id="submit", url=env.source_url)
        HeyWatchDownloadSensor(
            task_id="wait", download_id=submit.output, poke_interval=0.5, timeout=2, **mode_kwargs
        )
    result = env.run(dag)
    assert result.state_of("wait") == "failed"
    assert result.tasks["wait"].try_number == 1
    assert "timeout" in result.output.lower() or "timed out" in result.output.lower()


# ----------------------------------------------------------------------------------------------
# The operator waiting by itself
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("deferrable", "mapped"),
    [(False, False), (True, False), (True, True)],
    ids=["blocking", "deferrable", "deferrable-mapped"],
)
def test_operator_waits_for_the_encodes(env, deferrable, mapped):
    kwargs = {
        "task_id": "submit",
        "outputs": env.outputs,
        "wait_for_completion": "encode",
        "poll_interval": 0.5,
        "timeout": 120,
        "deferrable": deferrable,
    }
    with DAG(_dag_id("opwait"), schedule=None, start_date=START, catchup=False) as dag:
        if mapped:
            HeyWatchCreateDownloadOperator.partial(**kwargs).expand(url=[env.source_url])
        else:
            HeyWatchCreateDownloadOperator(url=env.source_url, **kwargs)
    result = env.run(dag)
    assert result.state == "success", result.output[-5000:]
    value = result.xcom("submit")
    assert value["status"] == "finished" and value["format_ids"] == [31, 175]
    _assert_two_encoded_videos(value["encoded_videos"])
    assert result.xcom("submit", "download_id") == value["id"]


@pytest.mark.parametrize("deferrable", [False, True], ids=["blocking", "deferrable"])
def test_operator_waiting_for_a_404_source_fails_without_retry(env, deferrable):
    with DAG(_dag_id("op404"), schedule=None, start_date=START, catchup=False) as dag:
        HeyWatchCreateDownloadOperator(
            task_id="submit",
            url=env.missing_url,
            wait_for_completion="transfer",
            poll_interval=0.5,
            timeout=60,
            deferrable=deferrable,
            retries=2,
            retry_delay=datetime.timedelta(seconds=0),
        )
    result = env.run(dag)
    assert result.state_of("submit") == "failed"
    assert result.tasks["submit"].try_number == 1  # AirflowFailException: no retry
    assert MEANING_201 in result.output
    assert len(_downloads(env.emulator)) == 1


def test_extra_link_points_at_the_download_page(env):
    with DAG(_dag_id("link"), schedule=None, start_date=START, catchup=False) as dag:
        HeyWatchCreateDownloadOperator(task_id="submit", url=env.source_url)
    result = env.run(dag)
    download_id = result.xcom("submit", "download_id")
    expected = f"{env.emulator.base_url}/download/{download_id}"
    assert result.xcom("submit", "heywatch_download_url") == expected
    if AIRFLOW_3:  # the worker evaluates the link when the task ends and stores it
        assert result.xcom("submit", "_link_HeyWatchDownloadLink") == expected
    else:  # the webserver evaluates it from the task instance key
        from airflow.models.taskinstancekey import TaskInstanceKey

        key = TaskInstanceKey(result.dag_id, "submit", result.run_id, 1, -1)
        assert HeyWatchDownloadLink().get_link(dag.get_task("submit"), ti_key=key) == expected
    assert HeyWatchDownloadLink.name == "HeyWatch download"


def test_a_task_that_fails_before_submitting_has_an_empty_link_and_no_xcom_lookup(env):
    with DAG(_dag_id("link_failed"), schedule=None, start_date=START, catchup=False) as dag:
        HeyWatchCreateDownloadOperator(task_id="submit", url="gopher://nowhere/clip.mp4")
    result = env.run(dag)
    assert result.state_of("submit") == "failed"
    assert "XCom not found" not in result.output
    if AIRFLOW_3:
        assert result.xcom("submit", "_link_HeyWatchDownloadLink") == ""


# ----------------------------------------------------------------------------------------------
# Retries never create a second download
# ----------------------------------------------------------------------------------------------
def _retrying_operator_dag(dag_id: str, url: str, **kwargs) -> DAG:
    with DAG(dag_id, schedule=None, start_date=START, catchup=False) as dag:
        HeyWatchCreateDownloadOperator(
            task_id="submit",
            url=url,
            title="retry-clip",
            wait_for_completion="transfer",
            poll_interval=0.5,
            timeout=60,
            retries=1,
            retry_delay=datetime.timedelta(seconds=0),
            **kwargs,
        )
    return dag


def test_retry_after_a_failure_while_waiting_reuses_the_download(env):
    # The first look at the new download answers 404: the first try fails after submitting.
    _fault(env.emulator, kind="status", status=404, method="GET", path="/download/", count=1)
    result = env.run(_retrying_operator_dag(_dag_id("retry_wait"), env.source_url))
    assert result.state == "success", result.output[-5000:]
    assert result.tasks["submit"].try_number == 2
    downloads = _downloads(env.emulator)
    assert len(downloads) == 1
    assert result.xcom("submit")["id"] == downloads[0]["id"]
    how = "recorded in the task state store" if AIRFLOW_3_3 else "found by url, title and creation time"
    assert f"Reusing HeyWatch download {downloads[0]['id']} created by an earlier try" in result.output
    assert how in result.output


def test_retry_after_losing_the_create_answer_finds_the_download(env):
    # The download is created but the answer never arrives: the id is known to nobody.
    _fault(env.emulator, kind="drop_after_create", method="POST", path="/download", count=1)
    result = env.run(_retrying_operator_dag(_dag_id("retry_lost"), env.source_url))
    assert result.state == "success", result.output[-5000:]
    assert result.tasks["submit"].try_number == 2
    assert len(_downloads(env.emulator)) == 1
    assert "found by url, title and creation time" in result.output


def test_retry_resubmits_a_download_that_ended_in_error(env):
    _fault(env.emulator, kind="status", status=404, method="GET", path="/download/", count=1)
    result = env.run(_retrying_operator_dag(_dag_id("retry_error"), env.missing_url))
    assert result.state_of("submit") == "failed"
    assert result.tasks["submit"].try_number == 2
    downloads = _downloads(env.emulator)
    assert len(downloads) == 2
    assert all(download["status"] == "error" for download in downloads)
    assert "submitting a new one" in result.output
    assert MEANING_201 in result.output


def test_bad_parameters_fail_before_any_request(env):
    with DAG(_dag_id("bad"), schedule=None, start_date=START, catchup=False) as dag:
        HeyWatchCreateDownloadOperator(
            task_id="submit",
            url="{{ 'ftp://' }}",  # renders to a URL without a host
            outputs=[{"format_id": 31, "ftp_directive": "ftp://h/a"}, {"format_id": 175}],
        )
    result = env.run(dag)
    assert result.state_of("submit") == "failed"
    assert "outputs[1].ftp_directive" in result.output or "url" in result.output
    assert _downloads(env.emulator) == []


def test_a_wrong_parameter_fails_the_task_without_using_its_retries(env):
    with DAG(_dag_id("bad_retries"), schedule=None, start_date=START, catchup=False) as dag:
        HeyWatchCreateDownloadOperator(
            task_id="submit",
            url=env.source_url,
            outputs=[{"format_id": 31, "ftp_directive": "sftp://h/a"}],
            retries=2,
            retry_delay=datetime.timedelta(seconds=1),
        )
    result = env.run(dag)
    assert result.state_of("submit") == "failed"
    assert result.tasks["submit"].try_number <= 1
    assert "HeyWatchInvalidParameter" in result.output
    assert "outputs[0].ftp_directive must start with ftp://" in result.output
    assert _downloads(env.emulator) == []


# ----------------------------------------------------------------------------------------------
# Secrets: nothing of the connection password, the FTP password or the S3 keys leaks
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mapped", [False, True], ids=["plain", "mapped"])
def test_no_secret_in_task_logs_xcoms_or_rendered_fields(env, s3_server, ping_receiver, mapped):
    s3_server.create_bucket("encoded")
    env.emulator.config.s3_endpoint_url = s3_server.endpoint_url
    # The directives come from templates (as from a Variable with a plain name would).
    ftp_directive = env.ftp.url("/videos/")
    s3_directive = s3_server.directive("encoded", "")
    outputs = [
        {"format_id": 31, "ftp_directive": "{{ params.ftp }}flv/", "s3_directive": "{{ params.s3 }}flv/"},
        {"format_id": 175, "ftp_directive": "{{ params.ftp }}mp4/", "s3_directive": "{{ params.s3 }}mp4/"},
    ]
    common = {"ping_url_if_error": ping_receiver.url("/error"), "custom_fields": {"item_id": 7}}
    sensor_kwargs = {"wait_for_encoding": True, "poke_interval": 0.5, "timeout": 120, "deferrable": True}
    with DAG(
        _dag_id("secrets"),
        schedule=None,
        start_date=START,
        catchup=False,
        params={"ftp": ftp_directive, "s3": s3_directive},
    ) as dag:
        if mapped:
            submit = HeyWatchCreateDownloadOperator.partial(
                task_id="submit", outputs=outputs, **common
            ).expand(url=[env.source_url])
            HeyWatchDownloadSensor.partial(task_id="wait", **sensor_kwargs).expand(download_id=submit.output)
        else:
            submit = HeyWatchCreateDownloadOperator(
                task_id="submit", url=env.source_url, outputs=outputs, **common
            )
            HeyWatchDownloadSensor(task_id="wait", download_id=submit.output, **sensor_kwargs)
    result = env.run(dag)
    assert result.state == "success", result.output[-5000:]
    _assert_two_encoded_videos(result.xcom("wait")["encoded_videos"])
    assert s3_server.keys("encoded")
    stored = json.dumps(
        {task_id: {"xcoms": t.xcoms, "rendered": t.rendered_fields} for task_id, t in result.tasks.items()},
        default=str,
    )
    assert result.tasks["submit"].rendered_fields, "rendered fields were not stored"
    for secret in (EMULATOR_PASSWORD, FTP_PASSWORD, S3_SECRET_KEY):
        for encoded in {secret, requests.utils.quote(secret, safe="")}:
            assert encoded not in result.output, f"{secret!r} leaked into the task output"
            assert encoded not in stored, f"{secret!r} leaked into XCom or rendered fields"
