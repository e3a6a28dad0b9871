"""Scheduled RCA reports inside `kgrca serve`: on a cron expression, written to a folder, optionally posted
as Slack-compatible JSON.

A run missed while the service was down is not skipped: each report covers the time since the last one
written (kept in ``<report_dir>/.last_report``), so a gap is folded into the next report.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import urllib.request
from pathlib import Path

from croniter import croniter

from faces.reports.collect import Report, collect
from faces.reports.render import SUFFIX, render
from faces.reports.templating import environment, render_template
from kgrca.config import Config
from kgrca.contracts import ConfigError
from kgrca.graphdb import driver_for

log = logging.getLogger(__name__)
STATE = ".last_report"
FIRST_WINDOW = dt.timedelta(hours=24)


def write_report(cfg: Config, since: dt.datetime, until: dt.datetime, out: Path,
                 formats: tuple[str, ...] = ("html", "markdown", "json"),
                 cluster: str | None = None) -> tuple[Report, list[Path]]:
    out.mkdir(parents=True, exist_ok=True)
    with driver_for(cfg) as driver:
        report = collect(driver, cfg, since, until, cluster)
    stem = f"rca-{until.strftime('%Y%m%dT%H%M%SZ')}"
    paths = []
    for fmt in formats:
        path = out / f"{stem}.{SUFFIX[fmt]}"
        path.write_text(render(report, fmt, cfg.report_templates), encoding="utf-8")
        paths.append(path)
    return report, paths


def slack_message(report: Report, paths: list[Path], templates: str | None = None) -> dict:
    """The Slack-compatible message of a written report, from slack.txt.j2 (``templates`` may override it)."""
    text = render_template(environment(templates, slack=True), "slack.txt.j2", report=report,
                           paths=[str(p) for p in paths])
    return {"text": text.rstrip("\n")}


class ReportScheduler:
    """A background service of `kgrca serve` (see faces/commands/serve.py BACKGROUND_SERVICES)."""

    name = "scheduled reports"

    def __init__(self, cfg: Config, clock=lambda: dt.datetime.now(dt.UTC)):
        if not croniter.is_valid(cfg.report_schedule or ""):
            raise ConfigError(f"report_schedule={cfg.report_schedule!r}: expected a cron expression like "
                              "'0 6 * * *' (minute hour day month weekday; a sixth field gives seconds)")
        environment(cfg.report_templates)  # a missing template folder stops `kgrca serve` at start, not at 6 am
        self.cfg = cfg
        self.out = Path(cfg.report_dir)
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written: list[Report] = []

    def last_until(self) -> dt.datetime | None:
        try:
            return dt.datetime.fromisoformat(json.loads((self.out / STATE).read_text())["until"])
        except (OSError, ValueError, KeyError):
            return None

    def run_once(self) -> Report:
        until = self.clock()
        since = self.last_until() or until - FIRST_WINDOW
        report, paths = write_report(self.cfg, since, until, self.out)
        (self.out / STATE).write_text(json.dumps({"since": since.isoformat(), "until": until.isoformat()}))
        self.written.append(report)
        log.info("RCA report %s to %s: %d entries -> %s", since, until, len(report.entries), paths[0])
        if self.cfg.report_webhook_url:
            self._post(slack_message(report, paths, self.cfg.report_templates))
        return report

    def _post(self, message: dict) -> None:
        request = urllib.request.Request(self.cfg.report_webhook_url, data=json.dumps(message).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10):
                pass
        except OSError as exc:
            log.warning("posting the report to %s failed: %s", self.cfg.report_webhook_url, exc)

    def _loop(self) -> None:
        schedule = croniter(self.cfg.report_schedule, self.clock())
        while not self._stop.is_set():
            due = schedule.get_next(dt.datetime)
            if self._stop.wait(max((due - self.clock()).total_seconds(), 0)):
                return
            try:
                self.run_once()
            except Exception as exc:  # a failed report must not stop the next one
                log.error("scheduled report failed: %s", exc)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="report-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)


def scheduler_for(cfg: Config) -> ReportScheduler | None:
    """The scheduler when ``report_schedule`` is set, else None (the BACKGROUND_SERVICES builder)."""
    return ReportScheduler(cfg) if cfg.report_schedule else None
