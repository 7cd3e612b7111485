"""The demo's closing summary: what HeyWatch did, what was delivered, pinged and announced."""

from __future__ import annotations

from typing import Any

from demo.verify import Report, container_matches


def _kb(size_bytes: int) -> str:
    return f"{size_bytes / 1024:.1f} KB"


def _specs_line(specs: dict[str, Any] | None) -> str:
    if not specs:
        return "-"
    v, a = specs.get("video") or {}, specs.get("audio") or {}
    return (
        f"{v.get('container')} {v.get('codec')} {v.get('width')}x{v.get('height')} {v.get('fps')} fps "
        f"{v.get('length')} s, audio {a.get('codec') or '-'} {a.get('sample_rate')} Hz "
        f"{a.get('channels')} ch, {specs.get('size')} KB"
    )


def render(report: Report, *, elapsed: float | None = None) -> str:
    out: list[str] = ["", "=" * 78, "HeyWatch demo summary", "=" * 78]
    for record in report.downloads:
        d = record.download
        out.append(f"Download {d['id']}: {d.get('status')}  {d.get('url')}")
        if d.get("error_code"):
            out.append(f"  error {d.get('error_code')}: {d.get('error_msg')}")
        if record.video:
            out.append(f"  source video {record.video['id']}: {_specs_line(record.video.get('specs'))}")
        for o in record.outputs:
            fmt, job = o.format, o.job
            out.append(
                f"  format {job['format_id']:<4} {fmt.get('name', '')!s:<22} "
                f"job {job['id']} {job.get('status')}"
                + (f", encoded video {o.encoded_video['id']}" if o.encoded_video else "")
            )
            if o.media:
                m = o.media
                container = (
                    fmt.get("container")
                    if container_matches(fmt.get("container"), m.container)
                    else m.container
                )
                out.append(
                    f"      {container}/{m.video_codec}+{m.audio_codec or '-'} {m.width}x{m.height} "
                    f"{m.duration:.2f} s {_kb(m.size_bytes)}  ftp:{o.ftp_path}"
                )
                out.append(f"      decoded {m.video_frames} video and {m.audio_frames} audio frames")
    out.append("")
    out.append(f"Pings received: {len(report.pings)}")
    for p in report.pings:
        fields = ", ".join(f"{k}={v}" for k, v in sorted(p.fields.items()))
        out.append(f"  POST {p.path}  {fields}")
    out.append("")
    out.append(f"Asset events: {len(report.asset_events)}")
    for e in report.asset_events:
        x = e["extra"]
        out.append(
            f"  {e['uri']}  download {x.get('download_id')} video {x.get('video_id')} "
            f"encoded {x.get('encoded_video_id')} format {x.get('format_id')} {x.get('filename')} "
            f"{x.get('size')} KB"
        )
    out.append("")
    out.append("Checks:")
    for c in report.checks:
        out.append(f"  [{'ok' if c.ok else 'FAIL':>4}] {c.name}: {c.detail}")
    failed = [c for c in report.checks if not c.ok]
    out.append("")
    verdict = "PASSED" if report.ok else f"FAILED ({len(failed)} of {len(report.checks)} checks)"
    out.append(f"Demo {verdict}" + (f" in {elapsed:.0f} s" if elapsed is not None else ""))
    return "\n".join(out)
