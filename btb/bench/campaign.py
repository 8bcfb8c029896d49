"""Campaign state: the manifest of planned cells, resume per cell, progress for remote pollers.

A campaign directory `<results>/<campaign>/` holds the cell files (`<scenario>/<ram>/<Q>-<v>.json`)
and three campaign files, each written atomically:

- `manifest.json`: what the campaign is (profile, dataset fingerprint, runtime, protocol: its
  *identity*) and every planned cell. Re-running the same command finds it and skips finished
  cells, so a killed runner or a lost SSH session continues where it stopped. A command whose
  identity differs (another dataset, another protocol) is refused: mixing its cells with the old
  ones would compare unlike with unlike. `--fresh` starts the campaign over instead.
- `progress.json`: state (running / finished / failed), cells done / total, the current cell, an
  ETA from the mean time of the cells run so far, the runner's pid and host. The Ansible role
  polls it.
- `summary.json`: RAM_min, level verdicts and efficiency per configuration
  (btb.results.analysis), written when the campaign finishes.

A cell counts as finished when its file exists, parses, passes the schema and belongs to this
campaign's dataset; a cell with a failure status is finished too (failures are data).
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from btb.bench import provenance
from btb.dataset.fsutil import atomic_write_bytes, dump_json
from btb.errors import BtbError
from btb.results import analysis
from btb.results import store as results


def _write(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, dump_json(obj))


def cell_id(scenario: str, ram: str, query: str, variant: str) -> str:
    return f"{scenario}/{ram}/{query}-{variant}"


class Campaign:
    def __init__(self, results_dir: Path, name: str, identity: dict, fresh: bool = False,
                 log=print) -> None:
        self.dir = Path(results_dir) / name
        self.name = name
        self.identity = identity
        self.log = log
        self.manifest_path = self.dir / "manifest.json"
        self.progress_path = self.dir / "progress.json"
        self.summary_path = self.dir / "summary.json"
        self.fresh = fresh
        self.cells: list[str] = []
        self.ran = 0
        self._begun = time.monotonic()
        self.current: str | None = None
        self.started_at = provenance.now()
        self.done: set[str] = set()  # finished cells, checked once per plan(), then kept up to date
        self._check_identity()

    # ------------------------------------------------------------------ manifest
    def _check_identity(self) -> None:
        if self.fresh or not self.manifest_path.exists():
            return
        try:
            old = json.loads(self.manifest_path.read_text())
        except (OSError, ValueError) as e:
            raise BtbError(f"campaign {self.name}: {self.manifest_path} is unreadable ({e}); "
                           f"use --fresh to start the campaign over") from None
        if old.get("identity") != self.identity:
            diff = [k for k in sorted(set(old.get("identity", {})) | set(self.identity))
                    if old.get("identity", {}).get(k) != self.identity.get(k)]
            raise BtbError(
                f"campaign {self.name} in {self.dir} was started with other settings "
                f"(differs in: {', '.join(diff)}); rerun it with the same settings to resume, "
                f"choose another --campaign, or add --fresh to start it over")
        self.cells = list(old.get("cells", []))

    def plan(self, cells: list[str], command: list[str] | None = None) -> None:
        """Add cells to the manifest (a rerun with more levels or scenarios extends it)."""
        known = set(self.cells)
        self.cells += [c for c in cells if c not in known]
        self.done |= {c for c in self.cells if c not in self.done and self._finished(c)}
        _write(self.manifest_path, {"campaign": self.name, "identity": self.identity,
                                    "cells": self.cells, "command": command,
                                    "updated_at": provenance.now()})

    # ------------------------------------------------------------------ resume
    def path(self, cell: str) -> Path:
        scenario, ram, rest = cell.split("/")
        query, variant = rest.split("-")
        return results.cell_path(self.dir.parent, self.name, scenario, ram, query, variant)

    def finished(self, cell: str) -> bool:
        return cell in self.done

    def _finished(self, cell: str) -> bool:
        if self.fresh:  # only what this invocation ran, and that is already in self.done
            return False
        p = self.path(cell)
        if not p.exists():
            return False
        try:
            r = json.loads(p.read_text())
            results.validate(r)
        except Exception as e:  # noqa: BLE001 - any unreadable file is re-run, and said so
            self.log(f"{p}: not a valid result ({type(e).__name__}); running the cell again")
            return False
        return r["provenance"]["dataset"]["dataset_sha256"] == self.identity["dataset_sha256"]

    def remaining(self) -> list[str]:
        return [c for c in self.cells if c not in self.done]

    # ------------------------------------------------------------------ progress
    def start_cell(self, cell: str) -> None:
        self.current = cell
        self._progress("running")

    def end_cell(self, cell: str) -> None:
        self.ran += 1
        self.done.add(cell)
        self.current = None
        self._progress("running")

    def _progress(self, state: str, error: str | None = None) -> None:
        done = len(self.done & set(self.cells))
        left = len(self.cells) - done
        # wall time per cell run so far, loads and restarts included: what a poller waits for
        eta = ((time.monotonic() - self._begun) / self.ran * left) if self.ran else None
        _write(self.progress_path, {
            "campaign": self.name, "state": state, "done": done, "total": len(self.cells),
            "ran_this_time": self.ran, "current": self.current, "eta_s": eta,
            "started_at": self.started_at, "updated_at": provenance.now(),
            "pid": os.getpid(), "host": socket.gethostname(), "error": error})

    def begin(self) -> None:
        self._begun = time.monotonic()
        self._progress("running")

    def fail(self, error: str) -> None:
        self._progress("failed", error)

    def finish(self, threshold: float, noise_ms: float = analysis.DEFAULT_NOISE_MS) -> dict:
        cells = [json.loads(self.path(c).read_text()) for c in self.cells
                 if self.path(c).exists()]
        summary = {"campaign": self.name, "identity": self.identity, "threshold": threshold,
                   "noise_ms": noise_ms, "cells": len(self.cells), "written_at": provenance.now(),
                   "configurations": (analysis.summarise(cells, threshold, noise_ms)
                                      if cells else [])}
        _write(self.summary_path, summary)
        self._progress("finished")
        return summary
