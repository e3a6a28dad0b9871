"""RCA reports on a real graph: each format, the HTML drawn by headless Chromium, and the scheduler."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import time

import pytest
from PIL import Image

from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from kgrca.reports.schedule import ReportScheduler, write_report
from kgrca.reports.svg import timeline_svg
from tests.test_graph import failed_hook_upgrade

pytestmark = pytest.mark.neo4j
UNTIL = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def graph_config(neo4j_config, neo4j_driver, tmp_path):
    apply_schema(neo4j_driver)
    Neo4jWriter(neo4j_driver).write(failed_hook_upgrade())
    return neo4j_config.replace(report_dir=str(tmp_path / "reports"))


def test_each_format_names_the_release_its_diagnosis_and_what_to_run(graph_config, tmp_path):
    report, paths = write_report(graph_config, UNTIL - dt.timedelta(hours=24), UNTIL, tmp_path / "out")
    by_suffix = {p.suffix: p.read_text() for p in paths}
    markdown, html = by_suffix[".md"], by_suffix[".html"]
    data = json.loads(by_suffix[".json"])
    assert "### release prod/api (failed)" in markdown and "hook_failure/hook_image_pull" in markdown
    assert "hook_failure/hook_image_pull" in html
    assert "kubectl -n prod describe pod api-migrate-abcde" in markdown
    assert [e["release"] for e in data["namespaces"]["prod"]] == ["prod/api"]
    top = data["namespaces"]["prod"][0]["diagnoses"][0]
    assert top["pattern"] == "hook_image_pull" and top["shape"] == "hook_failure" and top["release"]["to_version"] == 7
    assert any("hook" in item["what"] for item in data["namespaces"]["prod"][0]["timeline"])
    assert "<svg" in html and html.count("<circle") >= 5 and "<script" not in html and "http://" not in \
        html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_a_quiet_window_says_so(graph_config, tmp_path):
    report, paths = write_report(graph_config, UNTIL - dt.timedelta(days=400), UNTIL - dt.timedelta(days=399),
                                 tmp_path / "quiet", ("markdown",))
    assert report.entries == [] and "Nothing failed in this window." in paths[0].read_text()


def test_headless_chromium_draws_the_timeline(graph_config, tmp_path):
    assert shutil.which("chromium"), "Debian's chromium is missing: run scripts/setup/50-reports.sh as root"
    _, paths = write_report(graph_config, UNTIL - dt.timedelta(hours=24), UNTIL, tmp_path / "out", ("html",))
    shot = tmp_path / "report.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1100,1400",
                    f"--screenshot={shot}", paths[0].as_uri()],
                   check=True, capture_output=True, timeout=120)
    image = Image.open(shot).convert("RGB")
    pixels = list(image.get_flattened_data() if hasattr(image, "get_flattened_data") else image.getdata())
    red = sum(1 for r, g, b in pixels if r > 190 and g < 100 and b < 100)  # failure dots (#d64545)
    blue = sum(1 for r, g, b in pixels if b > 190 and r < 100 and 100 < g < 150)  # other dots (#3d7bd9)
    assert red > 50 and blue > 20, (red, blue)


def test_timeline_svg_puts_each_kind_on_its_lane():
    items = [{"at": "2026-11-20T10:00:00Z", "type": "revision", "what": "revision 7 failed"},
             {"at": "2026-11-20T10:00:05Z", "type": "event", "what": "Warning BackOff"},
             {"at": "2026-11-20T10:00:03Z", "type": "hook", "what": "hook started"}]
    svg = timeline_svg(items, "prod/api")
    assert svg.index(">revisions<") < svg.index(">hooks<") < svg.index(">events<")
    assert svg.count("<circle") == 3 and svg.count('fill="#d64545"') == 2


def test_scheduler_runs_twice_and_the_second_covers_the_time_since_the_first(graph_config):
    cfg = graph_config.replace(report_schedule="* * * * * */2")  # every 2 seconds (sixth field: seconds)
    scheduler = ReportScheduler(cfg)
    scheduler.start()
    deadline = time.monotonic() + 60
    while len(scheduler.written) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    scheduler.stop()
    assert len(scheduler.written) >= 2
    first, second = scheduler.written[:2]
    assert second.since == first.until and second.until > first.until
    files = sorted(p.name for p in scheduler.out.glob("rca-*.html"))
    assert len(files) >= 2


def test_a_missed_run_is_covered_by_the_next_report(graph_config):
    clock = [UNTIL]
    scheduler = ReportScheduler(graph_config.replace(report_schedule="0 6 * * *"), clock=lambda: clock[0])
    scheduler.run_once()
    clock[0] = UNTIL + dt.timedelta(days=3)  # the service was down for two scheduled runs
    report = scheduler.run_once()
    assert report.since == UNTIL and report.until == UNTIL + dt.timedelta(days=3)


def test_a_bad_schedule_is_one_clear_line(neo4j_config):
    from kgrca.contracts import ConfigError

    with pytest.raises(ConfigError, match="report_schedule='every day'.*cron expression"):
        ReportScheduler(neo4j_config.replace(report_schedule="every day"))
