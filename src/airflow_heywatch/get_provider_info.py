"""Provider metadata read by Airflow's providers manager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_heywatch import __version__

CONN_TYPE = "heywatch"
DEFAULT_CONN_ID = "heywatch_default"
DEFAULT_BASE_URL = "https://heywatch.com"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-heywatch",
        "name": "HeyWatch",
        "description": (
            "`HeyWatch <https://heywatch.com>`__: encode videos into several formats "
            "and deliver them to FTP, S3 or HTTP."
        ),
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "HeyWatch",
                "external-doc-url": "https://heywatch.com",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": "HeyWatch",
                "python-modules": [
                    "airflow_heywatch.hooks.heywatch",
                    "airflow_heywatch.hooks.heywatch_async",
                ],
            }
        ],
        "operators": [
            {"integration-name": "HeyWatch", "python-modules": ["airflow_heywatch.operators.download"]}
        ],
        "sensors": [
            {"integration-name": "HeyWatch", "python-modules": ["airflow_heywatch.sensors.download"]}
        ],
        "triggers": [
            {"integration-name": "HeyWatch", "python-modules": ["airflow_heywatch.triggers.download"]}
        ],
        "extra-links": ["airflow_heywatch.links.heywatch.HeyWatchDownloadLink"],
        "connection-types": [
            {
                "connection-type": CONN_TYPE,
                "hook-class-name": "airflow_heywatch.hooks.heywatch.HeyWatchHook",
                "hook-name": "HeyWatch",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {"host": "Base URL", "login": "Login", "password": "Password"},
                    "placeholders": {
                        "host": DEFAULT_BASE_URL,
                        "login": "your HeyWatch login",
                        "password": "your HeyWatch password",
                    },
                },
                "conn-fields": {
                    "format": {
                        "label": "Response format",
                        "description": "Representation asked of the API: json (default) or xml.",
                        "schema": {
                            "type": ["string", "null"],
                            "enum": ["json", "xml", None],
                            "default": "json",
                        },
                    },
                    "timeout": {
                        "label": "Timeout (seconds)",
                        "description": "Timeout of every HTTP request; default 30.",
                        "schema": {"type": ["number", "null"], "minimum": 1, "default": 30},
                    },
                    "verify": {
                        "label": "Verify TLS certificates",
                        "description": "Turn off only for a test server with a self-signed certificate.",
                        "schema": {"type": ["boolean", "null"], "default": True},
                    },
                },
            }
        ],
    }
