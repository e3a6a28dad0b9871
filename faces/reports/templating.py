"""The Jinja2 environments reports render with, and the folder setting that overrides their templates.

The built-in templates are in faces/reports/templates/: report.html.j2 (with diagnosis.html.j2, report.css.j2
and timeline.svg.j2), report.md.j2 (with diagnosis.md.j2) and slack.txt.j2. A folder named by the
``report_templates`` setting is searched first, so a file there replaces the built-in one of the same name
and the others stay as they are. HTML and SVG templates are autoescaped; the Slack text escapes ``&``, ``<``
and ``>`` as Slack asks; Markdown is plain text. A mistake in a template is one line naming the file.
"""

from __future__ import annotations

import functools
import logging
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from faces.reports.svg import layout
from kgrca.contracts import ConfigError, KgrcaError
from rca.render import pattern_label, release_line

log = logging.getLogger(__name__)


def builtin_templates() -> tuple[str, ...]:
    """The file names a ``report_templates`` folder may override."""
    folder = resources.files("faces.reports") / "templates"
    return tuple(sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".j2")))


def _slack_escape(value: Any) -> Any:
    # https://api.slack.com/reference/surfaces/formatting#escaping: only these three are control characters
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") if value is not None else ""


def _clock(value: Any) -> str:
    return str(value or "")[:19].replace("T", " ")


def _truncate_at(value: str, length: int) -> str:
    return value[:length]


@functools.lru_cache(maxsize=16)
def environment(folder: str | None = None, slack: bool = False) -> jinja2.Environment:
    """The environment for ``folder`` (None: built-in templates only); ``slack`` for the Slack text."""
    loaders: list[jinja2.BaseLoader] = []
    if folder:
        path = Path(folder).expanduser()
        if not path.is_dir():
            raise ConfigError(f"report_templates={folder!r}: expected a folder of report templates; there is none")
        known = set(builtin_templates())
        for extra in sorted(p.name for p in path.iterdir() if p.is_file() and p.name not in known):
            log.warning("report_templates: %s/%s replaces no built-in template (%s); it is used only where "
                        "another template includes it", folder, extra, ", ".join(sorted(known)))
        loaders.append(jinja2.FileSystemLoader(str(path)))
    loaders.append(jinja2.PackageLoader("faces.reports", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "svg.j2"), default=False,
                                            default_for_string=False),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        finalize=_slack_escape if slack else None)
    env.filters.update(clock=_clock, truncate_at=_truncate_at, pattern_label=pattern_label,
                       release_line=release_line)
    if not slack:
        def svg(items: list[dict[str, Any]], title: str = "") -> Markup:
            return Markup(render_template(env, "timeline.svg.j2", **layout(items, title)).strip())

        env.filters["timeline_svg"] = svg
    return env


def render_template(env: jinja2.Environment, name: str, **context: Any) -> str:
    """``name`` rendered; a broken or mistaken template (a user's above all) is one line naming the file."""
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise KgrcaError(f"{exc.filename or name}:{exc.lineno}: report template error: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise KgrcaError(f"{_failing_template(exc) or name}: report template error: {exc}") from None
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
        where = _failing_template(exc)
        if where is None:  # not the template's mistake: a bug of ours, keep its traceback
            raise
        raise KgrcaError(f"{where}: report template error: {type(exc).__name__}: {exc}") from None


def _failing_template(exc: BaseException) -> str | None:
    """The template file (and line) the error came from: jinja2 puts template frames in the traceback."""
    where = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where
