"""The HTML report opened in headless Chromium (Debian `chromium`): it renders, logs no console
message, every figure is in the rendered DOM, and a screenshot (kept in the test's tmp dir for a
person to look at) is not blank.

Why no DevTools protocol: the report has no script and no external resource (checked statically
in tests/unit/test_report.py), so what can go wrong is parsing and rendering. `--dump-dom` shows
the DOM Chromium built; `--enable-logging=stderr` prints every console message as
`INFO:CONSOLE...` — a control page with a deliberate error proves the check catches one.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from btb.workflows.report import report
from tests.conftest import need
from tests.unit import result_factory as rf

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CONSOLE = re.compile(r"(INFO|WARNING|ERROR):CONSOLE")
WIDTH, HEIGHT = 1280, 3000


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run(tmp: Path, page: Path, *action: str) -> subprocess.CompletedProcess:
    exe = _chromium()
    need(exe is not None, "Debian chromium (apt-get install chromium; scripts/setup.sh does it)")
    # a private profile dir: no shared state between runs, nothing written to $HOME
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", f"--user-data-dir={tmp / 'chromium-profile'}",
           "--enable-logging=stderr", "--v=0", f"--window-size={WIDTH},{HEIGHT}", *action,
           page.resolve().as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _console(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if CONSOLE.search(line)]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    res = tmp_path_factory.mktemp("browser") / "results"
    extra = [rf.cell(4, "Q3", "wrong_answer", scenario="P1"),
             rf.cell(4, "Q3", "ok", 5.0, scenario="O1", unstable=True),
             rf.cell(None, "Q3", "crashed", scenario="F1", reason="engine died during Q3")]
    rf.write(res, rf.gradient() + extra)
    out = res.parent / "report"
    return out, report([res], out, log=lambda m: None)


def test_console_check_catches_an_error(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><p>x</p><script>console.error('boom'); nope();</script>")
    proc = _run(tmp_path, bad, "--dump-dom")
    lines = _console(proc)
    assert any("boom" in x for x in lines) and any("nope is not defined" in x for x in lines)


def test_report_renders_without_console_messages_and_with_every_figure(built, tmp_path):
    out, r = built
    proc = _run(tmp_path, out / "report.html", "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _console(proc) == []
    dom = proc.stdout
    assert dom.count("<svg") == len(r.figures)
    for name in r.figures:
        assert f'data-figure="{name}"' in dom
    for heading in ("Campaign summary and provenance", "RAM_min and efficiency",
                    "p95 latency matrices", "Latency = f(RAM) per query", "Memory peaks",
                    "Failed and unstable cells", "Answer check (every cell)"):
        assert heading in dom


def test_screenshot_is_not_blank(built, tmp_path):
    out, _ = built
    shot = tmp_path / "report.png"
    proc = _run(tmp_path, out / "report.html", f"--screenshot={shot}")
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    img = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert img.shape == (HEIGHT, WIDTH, 3)
    gray = img.mean(axis=2)
    not_white = float((gray < 245).mean())
    colored = float((img.max(axis=2) - img.min(axis=2) > 60).mean())  # plot lines, red cells
    print(f"screenshot {shot}: gray std {gray.std():.1f}, non-white {not_white:.1%}, "
          f"colored {colored:.2%}")
    assert gray.std() > 20, "a blank or uniform page"
    assert not_white > 0.03 and colored > 0.002
