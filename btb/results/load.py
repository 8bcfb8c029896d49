"""Read cell result files from one or many campaign directories, validating each one.

A report is built from whatever is valid: a file that is not JSON or fails the schema is listed
with its path and the reason and left out, never allowed to stop the report or to slip in
half-read. Directories from several hosts are merged; when two files describe the same cell
(same dataset, scenario, runtime, RAM level, query, variant and host) the most recently finished
one is kept and the other is reported, so a re-run never counts twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema

from btb.errors import BtbError
from btb.results import store


@dataclass
class Cell:
    """One valid result and where it came from."""

    path: Path
    result: dict

    @property
    def host(self) -> str:
        return (self.result["provenance"].get("host") or {}).get("hostname") or "unknown"

    @property
    def dataset_sha256(self) -> str:
        return self.result["provenance"]["dataset"]["dataset_sha256"]

    def key(self) -> tuple:
        r = self.result
        return (self.dataset_sha256, r["scenario"], r["runtime"], r["ram"], r["query"],
                r["variant"], self.host)


@dataclass
class Loaded:
    cells: list[Cell] = field(default_factory=list)
    errors: list[tuple[Path, str]] = field(default_factory=list)  # (file, why it was left out)
    replaced: list[tuple[Path, Path]] = field(default_factory=list)  # (dropped, kept)
    files_seen: int = 0
    campaigns: list[str] = field(default_factory=list)  # notes on unfinished campaigns

    @property
    def results(self) -> list[dict]:
        return [c.result for c in self.cells]


def cells_of(results: list[dict]) -> list[Cell]:
    """Cells for results held in memory (tests, callers that already read them)."""
    return [Cell(Path(f"<memory>/{i}.json"), r) for i, r in enumerate(results)]


def _schema_reason(e: jsonschema.ValidationError) -> str:
    where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
    return f"schema: {where}: {e.message}"


def read_cell(path: Path) -> tuple[dict | None, str | None]:
    """(result, None) for a valid file, (None, reason) otherwise."""
    try:
        result = json.loads(path.read_text())
    except UnicodeDecodeError as e:
        return None, f"not UTF-8 text: {e.reason}"
    except json.JSONDecodeError as e:
        return None, f"invalid JSON: {e.msg} at line {e.lineno} column {e.colno}"
    except OSError as e:
        return None, f"unreadable: {e.strerror}"
    if not isinstance(result, dict):
        return None, f"schema: (top level): expected an object, got {type(result).__name__}"
    try:
        store.validate(result)
    except jsonschema.ValidationError as e:
        # jsonschema.validate already raises the most relevant error (best_match)
        return None, _schema_reason(e)
    return result, None


def campaign_notes(results: Path) -> list[str]:
    """What a reader must know about campaign directories under `results` (written by
    btb.bench.campaign): planned cells without a result file, a campaign still running or
    stopped. Read as plain JSON: the report works on copies fetched from remote hosts."""
    notes = []
    for manifest in sorted(Path(results).rglob("manifest.json")):
        cdir = manifest.parent
        try:
            planned = json.loads(manifest.read_text()).get("cells") or []
        except (OSError, ValueError, AttributeError) as e:
            notes.append(f"{manifest}: unreadable campaign manifest ({e}); its cells are "
                         "reported, but whether any is missing is unknown")
            continue
        missing = [c for c in planned if not (cdir / f"{c}.json").is_file()]
        if missing:
            shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more"
                                              if len(missing) > 8 else "")
            notes.append(f"campaign {cdir}: {len(missing)} of {len(planned)} planned cells have "
                         f"no result file yet ({shown}); re-run the same `btb run` to resume")
        progress = cdir / "progress.json"
        try:
            state = json.loads(progress.read_text()).get("state") if progress.is_file() else None
        except (OSError, ValueError, AttributeError):
            state = None
        if state in ("running", "failed"):
            notes.append(f"campaign {cdir}: progress.json says '{state}'; this report shows the "
                         "cells finished so far")
    return notes


def load(dirs: list[Path]) -> Loaded:
    """Every valid cell under `dirs`; a missing directory or no cell file at all is a BtbError."""
    if not dirs:
        raise BtbError("no results directory given")
    out = Loaded()
    kept: dict[tuple, Cell] = {}
    seen: set[Path] = set()  # `btb report res res/c1` must not read res/c1 twice
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            raise BtbError(f"results directory {d} does not exist or is not a directory")
        files = store.cell_files(d)
        if not files:
            raise BtbError(f"no result files (Qnn-small.json / Qnn-large.json) under {d}; "
                           "run `btb run ... --results DIR` first, or check the path")
        files = [p for p in files if p.resolve() not in seen]
        seen.update(p.resolve() for p in files)
        out.files_seen += len(files)
        for path in files:
            result, reason = read_cell(path)
            if result is None:
                out.errors.append((path, reason))
                continue
            cell = Cell(path, result)
            old = kept.get(cell.key())
            if old is None:
                kept[cell.key()] = cell
            elif old.result["finished_at"] <= result["finished_at"]:
                kept[cell.key()] = cell
                out.replaced.append((old.path, path))
            else:
                out.replaced.append((path, old.path))
        out.campaigns += campaign_notes(d)
    out.cells = sorted(kept.values(), key=lambda c: c.path.as_posix())
    if not out.cells:
        lines = "\n".join(f"  {p}: {why}" for p, why in out.errors)
        raise BtbError(f"none of the {out.files_seen} result files is valid:\n{lines}")
    return out
