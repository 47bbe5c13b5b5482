"""Zuul's Gerrit report message, which CI-watching tools already parse."""

from __future__ import annotations

import re
from dataclasses import dataclass

ZUUL_MAX_MESSAGE = 16056  # past this Zuul falls back to a short form


@dataclass(frozen=True)
class JobLine:
    """One job's line of a report."""

    name: str
    url: str
    result: str
    duration: float
    voting: bool = True
    error: str | None = None


def format_duration(seconds: float) -> str:
    """Zuul's elapsed time: '45s', '3m 02s', '1h 02m 03s'."""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def succeeded(lines: list[JobLine]) -> bool:
    """Zuul's buildset verdict: every voting job succeeded (non-voting ones do not count)."""
    voting = [line for line in lines if line.voting]
    return bool(voting) and all(line.result == "SUCCESS" for line in voting)


def zuul_message(pipeline: str, lines: list[JobLine], buildset_url: str | None = None) -> str:
    """'Build succeeded (check pipeline).', the buildset URL, then one line per job."""
    head = "Build succeeded" if succeeded(lines) else "Build failed"
    parts = [f"{head} ({pipeline} pipeline).", ""]
    if buildset_url:
        parts += [buildset_url, ""]
    for line in lines:
        text = f"- {line.name} {line.url} : {line.result} in {format_duration(line.duration)}"
        if not line.voting:
            text += " (non-voting)"
        parts.append(text)
    message = "\n".join(parts)
    if len(message.encode()) > ZUUL_MAX_MESSAGE:
        message = "\n".join(parts[:2] + ([buildset_url] if buildset_url else []))
    return message


_LINE = re.compile(r"^- (?P<name>\S+) (?P<url>\S+) : (?P<result>[A-Z_]+)"
                   r"(?: in (?P<duration>[0-9hms ]+?))?(?P<nv> \(non-voting\))?\s*$")


def parse_zuul_message(text: str) -> list[dict[str, object]]:
    """The job lines of a Zuul-format comment: [{name, url, result, voting}]."""
    jobs = []
    for line in text.splitlines():
        match = _LINE.match(line.strip())
        if match:
            jobs.append({"name": match["name"], "url": match["url"], "result": match["result"],
                         "voting": not match["nv"]})
    return jobs
