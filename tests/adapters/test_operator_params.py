"""The operator's form parameters: every documented parameter, outputs, refusals before sending."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from airflow_heywatch.api.errors import HeyWatchValidationError
from airflow_heywatch.operators.download import RESERVED_PARAMETERS, HeyWatchCreateDownloadOperator

SOURCE = "http://media.example/source.mp4"


def _op(**kwargs):
    kwargs.setdefault("url", SOURCE)
    return HeyWatchCreateDownloadOperator(task_id="submit", **kwargs)


def test_every_documented_parameter_is_sent():
    op = _op(
        title="clip",
        outputs=[
            {"format_id": 31, "ftp_directive": "ftp://u:p@host.com/videos/flv"},
            {"format_id": 175, "ftp_directive": "ftp://u:p@host.com/videos/mp4"},
        ],
        ping_url_after_transfer="http://hooks.example/transfer",
        ping_url_if_error="http://hooks.example/error",
        ping_url_after_encode="https://hooks.example/encode",
        custom_fields={"item_id": 12, "my_site_user_id": "u-7", "flag": True},
        max_length=600,
        encoding_options={"keep_fps": True, "watermark_position": "topleft"},
    )
    assert op._form_params() == {
        "title": "clip",
        "ping_url_after_transfer": "http://hooks.example/transfer",
        "ping_url_if_error": "http://hooks.example/error",
        "ping_url_after_encode": "https://hooks.example/encode",
        "automatic_encode": True,
        "max_length": 600,
        "format_id": "31,175",
        "ftp_directive": "ftp://u:p@host.com/videos/flv,ftp://u:p@host.com/videos/mp4",
        "keep_fps": "true",
        "watermark_position": "topleft",
        "item_id": 12,
        "my_site_user_id": "u-7",
        "flag": True,
    }


def test_raw_parameters_are_accepted_as_strings_and_lists():
    assert _op(format_id="31,175", s3_directive="s3://k:s@bucket/a")._form_params() == {
        "automatic_encode": True,
        "format_id": "31,175",
        "s3_directive": "s3://k:s@bucket/a",
    }
    params = _op(
        format_id=[31, 175], http_upload_directive=["http://up.example/a", "http://up.example/b"]
    )._form_params()
    assert params["format_id"] == "31,175"
    assert params["http_upload_directive"] == "http://up.example/a,http://up.example/b"


def test_explicit_automatic_encode_false_wins_and_nothing_implied_without_outputs():
    assert (
        _op(outputs=[{"format_id": 31}], automatic_encode=False)._form_params()["automatic_encode"] is False
    )
    assert _op()._form_params() == {}
    assert _op(automatic_encode=True)._form_params() == {"automatic_encode": True}


def test_format_ids_follow_the_outputs():
    op = _op(outputs=[{"format_id": "31"}, {"format_id": 175}, {"format_id": "mp4"}])
    assert op._format_ids(op._form_params()) == [31, 175, "mp4"]
    assert _op()._format_ids({}) == []


@pytest.mark.parametrize("name", sorted(RESERVED_PARAMETERS))
def test_custom_fields_colliding_with_api_parameters_are_refused(name):
    with pytest.raises(HeyWatchValidationError, match="collides") as info:
        _op(custom_fields={name: "x"})._form_params()
    assert info.value.parameter == "custom_fields"


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"url": ""}, "url"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"outputs": [{"format_id": 31}], "format_id": 31}, "outputs"),
        ({"ftp_directive": "ftp://h/x"}, "format_id"),
        ({"outputs": []}, "outputs"),
        ({"outputs": [{"format_id": 31, "ftp_directive": "http://h/x"}]}, "ftp_directive"),
        (
            {"outputs": [{"format_id": 31, "ftp_directive": "ftp://h/a"}, {"format_id": 175}]},
            "outputs[1].ftp_directive",
        ),
        ({"format_id": "31,175", "ftp_directive": ["ftp://h/a", "ftp://h/b", "ftp://h/c"]}, "ftp_directive"),
        ({"ping_url_if_error": "ftp://h/x"}, "ping_url_if_error"),
        ({"custom_fields": ["a"]}, "custom_fields"),
        ({"custom_fields": {"bad name": 1}}, "custom_fields"),
        ({"custom_fields": {"nested": {"a": 1}}}, "custom_fields"),
        ({"max_length": 0}, "max_length"),
        ({"max_length": "ten"}, "max_length"),
        ({"encoding_options": {"keep_fps": "maybe"}}, "keep_fps"),
        ({"title": 12}, "title"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(kwargs, parameter):
    with pytest.raises(HeyWatchValidationError) as info:
        _op(**kwargs)._form_params()
    assert info.value.parameter == parameter


def test_refusal_messages_do_not_show_directive_passwords():
    with pytest.raises(HeyWatchValidationError) as info:
        _op(outputs=[{"format_id": 31, "ftp_directive": "sftp://bob:Hidden-Pw-77@h/x"}])._form_params()
    assert "Hidden-Pw-77" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"wait_for_completion": "done"}, "wait_for_completion"),
        ({"wait_for_completion": "encode", "automatic_encode": False}, "wait_for_completion"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"timeout": -1}, "timeout"),
        ({"automatic_encode": "yes"}, "automatic_encode"),
    ],
)
def test_constructor_refuses_bad_settings(kwargs, parameter):
    with pytest.raises(HeyWatchValidationError) as info:
        _op(**kwargs)
    assert info.value.parameter == parameter


def test_deferrable_defaults_to_the_airflow_setting():
    assert _op().deferrable is False
    code = (
        "from airflow_heywatch.operators.download import HeyWatchCreateDownloadOperator as Op\n"
        "from airflow_heywatch.sensors.download import HeyWatchDownloadSensor as Sensor\n"
        "op = Op(task_id='t', url='http://h/a.mp4')\n"
        "print(op.deferrable, Sensor(task_id='s', download_id=1).deferrable)\n"
    )
    env = {**os.environ, "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.split()[-2:] == ["True", "True"]


def test_templated_fields_are_the_documented_ones():
    assert set(HeyWatchCreateDownloadOperator.template_fields) == {
        "url",
        "title",
        "outputs",
        "format_id",
        "ftp_directive",
        "s3_directive",
        "http_upload_directive",
        "ping_url_after_transfer",
        "ping_url_if_error",
        "ping_url_after_encode",
        "custom_fields",
        "heywatch_conn_id",
    }
