"""RCA reports on a real graph: each format, the HTML drawn by headless Chromium, and the scheduler."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import shutil
import subprocess
import threading
import time

import pytest
from PIL import Image

from faces.reports.schedule import ReportScheduler, slack_message, write_report
from faces.reports.svg import timeline_svg
from faces.reports.templating import builtin_templates
from kg_builder.schema import apply_schema
from kg_builder.writer import Neo4jWriter
from kgrca.contracts import ConfigError, KgrcaError
from tests import factories as f
from tests.test_graph import failed_hook_upgrade, obs

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


SCRIPT = '<script>alert("kgrca")</script>'


def test_what_a_release_or_message_says_is_escaped_in_html_and_slack(graph_config, neo4j_driver, tmp_path):
    # A helm description and an event message are free text: a chart's own failure message can hold markup.
    rev = f.release_json("web", "prod", 3, "failed", description=f"Upgrade \"web\" failed: {SCRIPT}",
                         manifest=f.manifest(("apps/v1", "Deployment", "web")), last_deployed="2026-11-20T10:00:00Z")
    pod = f.pod("web-0", phase="Pending", ready=False, waiting="CreateContainerConfigError",
                waiting_message=f"secret {SCRIPT} not found", created="2026-11-20T10:00:03Z")
    Neo4jWriter(neo4j_driver).write([obs(f.release_secret(rev)), obs(pod),
                                     obs(f.event(pod, "Failed", f"Error: secret {SCRIPT} not found"))])
    report, paths = write_report(graph_config, UNTIL - dt.timedelta(hours=24), UNTIL, tmp_path / "out")
    by_suffix = {p.suffix: p.read_text() for p in paths}
    html, markdown = by_suffix[".html"], by_suffix[".md"]
    assert "&lt;script&gt;alert(" in html and "<script" not in html
    assert SCRIPT in markdown  # Markdown is plain text: the message is quoted as it was observed
    text = slack_message(report, paths)["text"]
    assert "&lt;script&gt;alert(" in text and "<script" not in text


def _serve_once(received: list[bytes]) -> http.server.HTTPServer:
    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (the name http.server calls)
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_template_folder_overrides_templates_by_file_name(graph_config, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "report.md.j2").write_text("{% for ns, entries in namespaces.items() %}{% for e in entries %}"
                                         "{{ ns }}: {{ e.title }} has {{ e.diagnoses | length }} diagnosis(es)\n"
                                         "{% endfor %}{% endfor %}")
    (folder / "diagnosis.html.j2").write_text('<p class="ours">{{ diagnosis.pattern }}: {{ diagnosis.summary }}</p>\n')
    (folder / "slack.txt.j2").write_text("{{ report.entries | length }} problem(s): "
                                         "{{ report.entries | map(attribute='title') | join(', ') }}\n")
    received: list[bytes] = []
    server = _serve_once(received)
    try:
        cfg = graph_config.replace(report_templates=str(folder), report_schedule="0 6 * * *",
                                   report_webhook_url=f"http://127.0.0.1:{server.server_port}/hook")
        clock = [UNTIL]
        scheduler = ReportScheduler(cfg, clock=lambda: clock[0])
        report = scheduler.run_once()
    finally:
        server.shutdown()
    markdown = next(scheduler.out.glob("rca-*.md")).read_text()
    html = next(scheduler.out.glob("rca-*.html")).read_text()
    [entry] = report.entries
    assert entry.title == "release prod/api" and entry.diagnoses
    assert markdown == f"prod: release prod/api has {len(entry.diagnoses)} diagnosis(es)\n"
    assert '<p class="ours">hook_image_pull: ' in html  # the overridden part
    assert "<h1>RCA report</h1>" in html and "<svg" in html  # the built-in rest
    assert json.loads(received[0]) == {"text": "1 problem(s): release prod/api"}


def test_a_broken_template_or_folder_is_one_line_naming_it(graph_config, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "report.md.j2").write_text("# report\n{% for entry in %}\n")
    with pytest.raises(KgrcaError, match=r"report\.md\.j2:2: report template error") as caught:
        write_report(graph_config.replace(report_templates=str(folder)), UNTIL - dt.timedelta(hours=1), UNTIL,
                     tmp_path / "out", ("markdown",))
    assert "\n" not in str(caught.value)
    (folder / "report.md.j2").write_text("{{ report.entries[0].no_such_field }}\n")
    with pytest.raises(KgrcaError, match=r"report\.md\.j2:1: report template error: .*no_such_field"):
        write_report(graph_config.replace(report_templates=str(folder)), UNTIL - dt.timedelta(hours=24), UNTIL,
                     tmp_path / "out", ("markdown",))
    with pytest.raises(ConfigError, match="report_templates='/nowhere/templates': expected a folder"):
        ReportScheduler(graph_config.replace(report_templates="/nowhere/templates", report_schedule="0 6 * * *"))


def test_the_built_in_templates_are_shipped_with_the_package():
    assert {"report.html.j2", "report.md.j2", "slack.txt.j2", "timeline.svg.j2"} <= set(builtin_templates())
