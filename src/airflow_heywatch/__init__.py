"""Apache Airflow provider for HeyWatch, the video-encoding web service."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
