"""Multi-format job options: one rule per test."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest

from airflow_heywatch.api.errors import HeyWatchValidationError
from airflow_heywatch.api.options import (
    Output,
    build_job_params,
    encode_encoding_options,
    form_value,
    split_directive_list,
    validate_job_params,
)

FLV = "ftp://u:p@host.com/videos/flv"
MP4 = "ftp://u:p@host.com/videos/mp4"


def test_documented_example_string_form():
    params = validate_job_params(format_id="31,175", ftp_directive=f"{FLV},{MP4}")
    assert params == {"format_id": "31,175", "ftp_directive": f"{FLV},{MP4}"}


def test_documented_example_as_outputs_keeps_order():
    params = build_job_params([Output(175, ftp_directive=MP4), Output("31", ftp_directive=FLV)])
    assert params == {"format_id": "175,31", "ftp_directive": f"{MP4},{FLV}"}
    assert split_directive_list(params["ftp_directive"]) == [MP4, FLV]


def test_outputs_may_be_mappings():
    params = build_job_params(
        [
            {"format_id": 31, "s3_directive": "s3://k:s@b/a"},
            {"format_id": 175, "s3_directive": "s3://k:s@b/b"},
        ]
    )
    assert params == {"format_id": "31,175", "s3_directive": "s3://k:s@b/a,s3://k:s@b/b"}


def test_single_directive_applies_to_every_format():
    params = validate_job_params(format_id=[31, 175, 2365], s3_directive="s3://key:secret@bucket/out/")
    assert params == {"format_id": "31,175,2365", "s3_directive": "s3://key:secret@bucket/out/"}


def test_shared_directive_in_outputs_is_sent_once():
    params = build_job_params([Output(31, ftp_directive=FLV), Output(175, ftp_directive=FLV)])
    assert params["ftp_directive"] == FLV


@pytest.mark.parametrize("count", [2, 4])
def test_directive_list_of_wrong_length_is_refused(count):
    directives = [f"ftp://u:p@h/{index}" for index in range(count)]
    with pytest.raises(HeyWatchValidationError) as info:
        validate_job_params(format_id="31,175,2365", ftp_directive=directives)
    assert info.value.parameter == "ftp_directive"
    assert f"ftp_directive has {count} values but format_id has 3 format(s)" in str(info.value)
    assert "a single one for all of them" in str(info.value)


def test_output_missing_a_directive_others_have_is_refused():
    with pytest.raises(HeyWatchValidationError) as info:
        build_job_params([Output(31, http_upload_directive="https://h/up"), Output(175)])
    assert info.value.parameter == "outputs[1].http_upload_directive"
    assert "give every output a http_upload_directive" in str(info.value)


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("ftp_directive", "sftp://u:p@h/x"),
        ("ftp_directive", "http://h/x"),
        ("s3_directive", "ftp://k:s@bucket/x"),
        ("http_upload_directive", "ftp://h/x"),
        ("http_upload_directive", "/relative/path"),
    ],
)
def test_wrong_scheme_is_refused(parameter, value):
    with pytest.raises(HeyWatchValidationError) as info:
        validate_job_params(format_id=31, **{parameter: value})
    assert info.value.parameter == parameter
    assert "must start with" in str(info.value)


def test_wrong_scheme_names_the_output_index():
    with pytest.raises(HeyWatchValidationError) as info:
        build_job_params([Output(31, s3_directive="s3://k:s@b/x"), Output(175, s3_directive="https://b/x")])
    assert "outputs[1].s3_directive must start with s3://" in str(info.value)
    with pytest.raises(HeyWatchValidationError) as info:
        validate_job_params(format_id="31,175", s3_directive=["s3://k:s@b/x", "https://b/x"])
    assert "s3_directive (value 2 of 2) must start with s3://" in str(info.value)


def test_missing_host_is_refused():
    with pytest.raises(
        HeyWatchValidationError, match=r"has no bucket .*s3://access_key:\*\*\*@bucket/object_key"
    ):
        validate_job_params(format_id=31, s3_directive="s3://key:secret@/x")
    with pytest.raises(HeyWatchValidationError, match="has no host"):
        validate_job_params(format_id=31, ftp_directive="ftp://")


def test_whitespace_is_refused():
    with pytest.raises(HeyWatchValidationError, match="%20"):
        validate_job_params(format_id=31, ftp_directive="ftp://u:p@h/my videos/")


def test_error_texts_never_show_the_password():
    with pytest.raises(HeyWatchValidationError) as info:
        validate_job_params(format_id=31, s3_directive="ftp://AKIA:topsecretkey@bucket/x")
    assert "topsecretkey" not in str(info.value)
    assert "ftp://AKIA:***@bucket/x" in str(info.value)


def test_s3_secret_with_slash_and_plus_is_percent_encoded():
    params = validate_job_params(format_id=31, s3_directive="s3://AKIAKEY:ab/cd+ef@bucket/out/a.mp4")
    assert params["s3_directive"] == "s3://AKIAKEY:ab%2Fcd%2Bef@bucket/out/a.mp4"
    parts = urlsplit(params["s3_directive"])
    assert (parts.hostname, parts.path, unquote(parts.password)) == ("bucket", "/out/a.mp4", "ab/cd+ef")


def test_already_encoded_userinfo_is_left_alone():
    value = "s3://AKIAKEY:ab%2Fcd%2Bef@bucket/k"
    assert validate_job_params(format_id=31, s3_directive=value)["s3_directive"] == value


def test_literal_comma_in_a_value_is_sent_as_2c_and_split_back():
    directives = ["ftp://u:pa,ss@h/flv", "ftp://u:p@h/mp4,hd"]
    params = validate_job_params(format_id=[31, 175], ftp_directive=directives)
    assert params["ftp_directive"] == "ftp://u:pa%2Css@h/flv,ftp://u:p@h/mp4%2Chd"
    first, second = split_directive_list(params["ftp_directive"])
    assert unquote(urlsplit(first).password) == "pa,ss"
    assert unquote(urlsplit(second).path) == "/mp4,hd"


def test_unencoded_at_sign_in_password_is_encoded():
    params = validate_job_params(format_id=31, ftp_directive="ftp://user:p@ss@ftp.site.com/dir")
    assert params["ftp_directive"] == "ftp://user:p%40ss@ftp.site.com/dir"


def test_split_directive_list_server_side():
    assert split_directive_list("a, b ,c") == ["a", "b", "c"]
    assert split_directive_list("ftp://u:a%2Cb@h/x") == ["ftp://u:a%2Cb@h/x"]
    assert split_directive_list("") == []
    assert split_directive_list("a,,b") == ["a", "", "b"]


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        (31, "31"),
        ("31", "31"),
        (" 0175 ", "175"),
        ("mp4", "mp4"),
        ("ios_720p", "ios_720p"),
        ("mkv:h264:mp3_720p", "mkv:h264:mp3_720p"),
    ],
)
def test_format_id_accepted_forms(value, sent):
    assert validate_job_params(format_id=value) == {"format_id": sent}


@pytest.mark.parametrize("value", [0, -3, "0", True, 3.5, "MP4!", "31;175", "", None, "abc def", []])
def test_format_id_refused_forms(value):
    with pytest.raises(HeyWatchValidationError) as info:
        validate_job_params(format_id=value)
    assert info.value.parameter == "format_id"


def test_format_id_with_commas_in_one_output_is_refused():
    with pytest.raises(HeyWatchValidationError, match=r"outputs\[0\]\.format_id holds several formats"):
        build_job_params([Output("31,175")])


@pytest.mark.parametrize(
    ("outputs", "parameter"),
    [
        ([], "outputs"),
        ("31", "outputs"),
        (Output(31), "outputs"),
        ([42], "outputs"),
        ([{"format": 31}], "outputs[0].format"),
        ([{"ftp_directive": FLV}], "outputs[0].format_id"),
    ],
)
def test_bad_outputs_are_refused(outputs, parameter):
    with pytest.raises(HeyWatchValidationError) as info:
        build_job_params(outputs)
    assert info.value.parameter == parameter


def test_form_value_booleans_and_numbers():
    assert (form_value(True), form_value(False), form_value(5), form_value(2.5), form_value("x")) == (
        "true",
        "false",
        "5",
        "2.5",
        "x",
    )
    with pytest.raises(HeyWatchValidationError, match="title must be a string"):
        form_value(["a"], "title")


def test_encode_encoding_options():
    options = {
        "keep_fps": True,
        "deinterlace": "FALSE",
        "keep_video_size": False,
        "watermark_position": "topleft",
        "watermark_image_url": "http://site.com/w.png",
        "transpose": 1,
        "not_set": None,
        "future_option": "x",
    }
    assert encode_encoding_options(options) == {
        "keep_fps": "true",
        "deinterlace": "false",
        "keep_video_size": "false",
        "watermark_position": "topleft",
        "watermark_image_url": "http://site.com/w.png",
        "transpose": "1",
        "future_option": "x",
    }
    assert encode_encoding_options(None) == {}


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"keep_fps": "yes"}, "keep_fps"),
        ({"keep_quality": 1}, "keep_quality"),
        ({"watermark_image_url": "ftp://h/w.png"}, "watermark_image_url"),
        ({"Bad Name": True}, "encoding_options"),
        ({"transpose": [1]}, "transpose"),
        (["keep_fps"], "encoding_options"),
    ],
)
def test_encode_encoding_options_refuses_bad_values(options, parameter):
    with pytest.raises(HeyWatchValidationError) as info:
        encode_encoding_options(options)
    assert info.value.parameter == parameter


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("ftp_directive", "ftp://u:pw-secret@127.0.0.1:21/?__extra__=%7B%22passive%22%3A+true%7D/videos/flv"),
        ("ftp_directive", "ftp://u:pw-secret@host/videos#flv"),
        ("s3_directive", "s3://AKIA:sec-ret@bucket/key?versionId=1"),
    ],
)
def test_query_or_fragment_in_ftp_and_s3_directives_is_refused(parameter, value):
    # A connection's get_uri() with extras puts the folder after "?__extra__=…": it would be
    # delivered to the FTP root, so it is refused before anything is sent.
    with pytest.raises(HeyWatchValidationError) as info:
        validate_job_params(format_id=31, **{parameter: value})
    assert info.value.parameter == parameter
    assert "query string" in str(info.value)
    assert "get_uri()" in str(info.value)
    assert "secret" not in str(info.value)


def test_query_string_in_http_upload_directive_is_kept():
    params = validate_job_params(format_id=31, http_upload_directive="https://h.example/up?post_id=12")
    assert params["http_upload_directive"] == "https://h.example/up?post_id=12"


def test_whitespace_error_hides_a_password_containing_whitespace():
    with pytest.raises(HeyWatchValidationError) as info:
        validate_job_params(format_id=31, ftp_directive="ftp://ftpuser:Leaky Pass123@127.0.0.1/x")
    assert "Leaky" not in str(info.value)
    assert "Pass123" not in str(info.value)
