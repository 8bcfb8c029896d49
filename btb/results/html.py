"""Render the self-contained `report.html` from the report's data with a Jinja2 template.

Self-contained means one file a reader can mail or open offline: CSS inline, figures inline as
SVG markup, no script, no external link of any kind. Every value is autoescaped except the SVG
produced by our own matplotlib call (`figures.save`).
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from markupsafe import Markup

from btb.dataset.fsutil import human_bytes

TEMPLATES = Path(__file__).with_name("templates")


def _bytes(n) -> str:
    return "–" if n is None else human_bytes(n)


def _num(v, digits: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, int) or abs(v) >= 10 ** digits:
        return f"{round(v):,}"  # 3,412 rather than 3.41e+03
    return f"{v:.{digits}g}"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters.update(bytes=_bytes, num=_num, svg=Markup)
    return env


def render(context: dict) -> str:
    return _env().get_template("report.html.j2").render(**context)
