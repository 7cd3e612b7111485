"""Directive credentials reach Airflow's secrets masker."""

from __future__ import annotations

from airflow.providers.common.compat.sdk import redact

from airflow_heywatch.secrets import iter_url_secrets, mask_url_secrets


def test_iter_url_secrets_walks_nested_values():
    values = [
        [{"format_id": 31, "ftp_directive": "ftp://bob:ftp-Pa55word@h/flv"}],
        "s3://AKIAXYZXYZ:s3cr3t%2FKey@bucket/a.mp4",
        {"note": "no url here", "ping": "https://hook.example/ping"},
        None,
    ]
    secrets = list(iter_url_secrets(*values))
    assert "ftp-Pa55word" in secrets
    assert "s3cr3t%2FKey" in secrets and "s3cr3t/Key" in secrets
    assert "AKIAXYZXYZ" in secrets
    assert "bob" not in secrets


def test_mask_url_secrets_registers_with_the_masker():
    registered = mask_url_secrets({"ftp_directive": "ftp://bob:Unique-Masked-Pw1@h/flv"})
    assert registered == ["Unique-Masked-Pw1"]
    assert "Unique-Masked-Pw1" not in str(redact("password is Unique-Masked-Pw1 here"))
