"""Credentials in directive URLs: found for the secrets masker, hidden everywhere else."""

from __future__ import annotations

import json

import pytest
from api_helpers import SAMPLES

from airflow_heywatch.api.redact import directive_secrets, redact, redact_text, redact_url


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("ftp://login:password@host:21/path", "ftp://login:***@host:21/path"),
        ("s3://AKIAKEY:ab/cd+ef@bucket/key.mp4", "s3://AKIAKEY:***@bucket/key.mp4"),
        ("s3://AKIAKEY:ab%2Fcd%2Bef@bucket/key.mp4", "s3://AKIAKEY:***@bucket/key.mp4"),
        ("https://user:pa%2Css@upload.site.com/hook?x=1", "https://user:***@upload.site.com/hook?x=1"),
        ("ftp://user:p@ss@host/dir", "ftp://user:***@host/dir"),
        ("ftp://host/path", "ftp://host/path"),
        ("ftp://user@host/path", "ftp://user@host/path"),
        ("http://site.com/heywatch/encode?post_id=1", "http://site.com/heywatch/encode?post_id=1"),
        ("not a url", "not a url"),
    ],
)
def test_redact_url(url, redacted):
    assert redact_url(url) == redacted


def test_redact_text_handles_several_urls_and_lists():
    text = "ftp://u:pw1@h/a,ftp://u:pw2@h/b and s3://k:sec@b/x"
    assert redact_text(text) == "ftp://u:***@h/a,ftp://u:***@h/b and s3://k:***@b/x"


@pytest.mark.parametrize(
    ("url", "secrets"),
    [
        ("ftp://login:password@host/path", ["password"]),
        ("ftp://u:pa%2Css@h/x", ["pa%2Css", "pa,ss"]),
        ("s3://AKIAKEY:ab%2Fcd%2Bef@bucket/k", ["ab%2Fcd%2Bef", "ab/cd+ef", "AKIAKEY"]),
        ("s3://AKIAKEY:ab/cd+ef@bucket/k", ["ab/cd+ef", "AKIAKEY"]),
        ("https://user:s%40cret@h/up", ["s%40cret", "s@cret"]),
        ("ftp://user:p@ss@host/dir", ["p", "p@ss"]),
        ("ftp://host/path", []),
        ("ftp://user@host/path", []),
        ("", []),
    ],
)
def test_directive_secrets(url, secrets):
    assert directive_secrets(url) == secrets


def test_directive_secrets_of_a_comma_separated_list():
    secrets = directive_secrets("ftp://u:first1@h/a,ftp://u:second2@h/b")
    assert "first1" in secrets and "second2" in secrets


def test_redact_is_a_deep_copy_hiding_every_password():
    job = json.loads((SAMPLES / "job_create_ruby_readme.json").read_text())
    data = {"jobs": [job], "note": ("ftp://a:bsecret@h/x", 5), "n": None}
    clean = redact(data)
    assert clean["jobs"][0]["s3_directive"] == "s3://accesskey:***@myvideobucket/flv/123434.flv"
    assert clean["note"] == ("ftp://a:***@h/x", 5)
    assert clean["n"] is None
    assert clean["jobs"][0]["encoding_options"] == {"keep_video_size": True}
    assert "secretkey" not in json.dumps(clean)
    # the input is left untouched
    assert job["s3_directive"] == "s3://accesskey:secretkey@myvideobucket/flv/123434.flv"
    assert clean["jobs"][0] is not job


def test_redact_url_hides_a_password_free_text_cannot_delimit():
    assert redact_url("ftp://ftpuser:Leaky Pass123@127.0.0.1:21/x") == "ftp://ftpuser:***@127.0.0.1:21/x"
