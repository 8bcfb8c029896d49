"""`btb` command line: sub-commands only parse arguments and call workflows.

A `BtbError` (bad input, missing resource) is printed as `btb: error: ...` with exit status 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from btb import __version__
from btb.config.profiles import DEFAULT_SEED, profile_names
from btb.errors import BtbError
from btb.results.analysis import AMPLE_FRACTION


def _root(value: str | None) -> Path:
    return Path(value or os.environ.get("BTB_DATA") or "datasets")


def _human(n: float) -> str:
    from btb.dataset.fsutil import human_bytes

    return human_bytes(n)


def _si(n: float) -> str:
    for unit in ("", "k", "M", "G", "T"):
        if abs(n) < 1000:
            return f"{n:.0f}{unit}" if unit == "" else f"{n:.1f}{unit}"
        n /= 1000
    return f"{n:.1f}P"


def _table(headers: list[str], rows: list[list]) -> str:
    cells = [headers] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                       enumerate(zip(r, widths))) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def cmd_profiles(args) -> int:
    from btb.config.profiles import get_profile
    from btb.dataset.estimate import estimate

    rows = []
    for name in profile_names():
        p = get_profile(name)
        e = estimate(p, args.seed)
        loads = e.loads(p.days)
        rows.append([name, e.buildings, _si(e.points), _si(e.rows), _human(e.parquet_bytes),
                     _si(loads["P1 P2"]["rows"]), _si(loads["M1 F1"]["nodes"]),
                     _si(loads["M1 F1"]["rels"]), _si(loads["O1"]["triples"]),
                     _si(loads["O2"]["triples"])])
    print(_table(["profile", "buildings", "points", "ts rows", "parquet", "P1/P2 rows",
                  "M1/F1 nodes", "M1/F1 rels", "O1 triples", "O2 triples"], rows))
    print("\nEstimates (structure exact, rows from a simulated first day). "
          "M2/F2 load the M1 structure without ArchiveDay nodes, plus the P1 timeseries rows.")
    return 0


def _print_dataset(g) -> None:
    fp = g.fingerprint
    rc = fp["row_counts"]
    size = sum(f["bytes"] for f in fp["files"].values())
    files = sum(1 for k in fp["files"] if k.startswith("timeseries/"))
    print(f"dataset   {g.name}  ({g.path})")
    print(f"profile   {fp['profile']}  seed {fp['seed']}  buildings {fp['buildings']}  "
          f"days {len(fp['dates'])} ({fp['dates'][0]} .. {fp['dates'][-1]})")
    print(f"rows      nodes {rc['nodes']:,}  points {rc['points']:,}  edges {rc['edges']:,}  "
          f"timeseries {rc['timeseries']:,} in {files} files")
    print(f"size      {_human(size)}  sha256 {fp['dataset_sha256']}")
    if g.skipped:
        print("status    already present and verified (use --force to regenerate)")
    else:
        rate = rc["timeseries"] / g.seconds if g.seconds else 0
        print(f"time      {g.seconds:.1f} s  ({rate / 1e6:.2f} M rows/s)")


def cmd_generate(args) -> int:
    from btb.workflows.datasets import generate

    g = generate(args.profile, args.seed, _root(args.root), args.workers, args.force)
    _print_dataset(g)
    return 0


def cmd_datasets(args) -> int:
    from btb.dataset.store import Store
    from btb.workflows import datasets as wf

    root = _root(args.root)
    if args.action == "list":
        entries = Store(root).list()
        if not entries:
            print(f"no datasets in {root}; create one with: btb generate tiny-1d")
            return 0
        print(_table(["name", "profile", "seed", "rows", "size", "parent", "sha256"],
                     [[e["name"], e.get("profile"), e.get("seed"), f"{e.get('rows', 0):,}",
                       _human(e.get("bytes", 0)), (e.get("parent") or {}).get("name", "-"),
                       (e.get("dataset_sha256") or "")[:12]] for e in entries]))
    elif args.action == "verify":
        fp = wf.verify(root, args.name)
        print(f"{args.name}: OK, {len(fp['files'])} files match fingerprint.json "
              f"(sha256 {fp['dataset_sha256']})")
    elif args.action == "extract":
        name = wf.cut(root, args.name, args.to)
        print(f"{name}: cut from {args.name}")
    elif args.action == "push":
        print(f"pushed {args.name} to {wf.push_dataset(root, args.name, args.url)}")
    elif args.action == "pull":
        print(f"pulled {wf.pull_dataset(root, args.url)} into {root}")
    elif args.action == "delete":
        Store(root).delete(args.name)
        print(f"deleted {args.name}")
    return 0


def cmd_run(args) -> int:
    from btb.workflows.run import ram_min_table, run, summary_table

    written, summary = run(
        args.profile, args.scenarios, args.queries, args.runtime, Path(args.results),
        _root(args.root), args.seed, args.n_warmup, args.n_runs, args.timeout, args.variants,
        args.campaign, ram=args.ram, bisect_gb=args.bisect, threshold=args.threshold,
        fresh=args.fresh, command=sys.argv, cold=args.cold, noise_ms=args.noise_ms,
        load_timeout_s=args.load_timeout,
        log=lambda m: print(m, flush=True))
    if written:
        print(summary_table(written))
    if any(lv["ram_bytes"] is not None for c in summary["configurations"] for lv in c["levels"]):
        print(ram_min_table(summary))
    bad = [r for r in written if r["status"] not in ("ok", "skipped")]
    print(f"{len(written)} cells run now ({summary['cells']} in the campaign), written to "
          f"{Path(args.results) / summary['campaign']}: "
          f"{sum(r['status'] == 'ok' for r in written)} ok, {len(bad)} failed, "
          f"{sum(r['status'] == 'skipped' for r in written)} skipped")
    return 0


def cmd_doctor(args) -> int:
    import json

    from btb.workflows import doctor

    checks = doctor.run(args.profile, _root(args.root), Path(args.results))
    if args.json:
        print(json.dumps(doctor.as_dicts(checks), indent=2))
    else:
        width = max(len(c.name) for c in checks)
        for c in checks:
            print(f"{c.name.ljust(width)}  {c.status.upper():4}  {c.detail}")
        for c in checks:
            if c.fix and c.status != "ok":
                print(f"  {c.name}: {c.fix}")
    return 1 if any(c.status == "fail" for c in checks) else 0


def cmd_campaign(args) -> int:
    from btb.workflows import remote

    variables = remote.extravars(args.profile, args.ram, args.scenarios, args.queries, args.name,
                                 args.extra or [])
    repo = Path(args.repo) if args.repo else None
    inventory = Path(args.inventory) if args.inventory else \
        remote.check_repo(repo or remote.default_repo()) / "inventory" / "example" / "hosts.yml"
    result = remote.run_playbook(args.playbook, inventory, variables, repo,
                                 log=lambda m: print(m, flush=True))
    print(f"ansible-playbook {remote.PLAYBOOKS[args.playbook]}: {result.status} (rc {result.rc})")
    return 0 if result.rc == 0 else 1


def cmd_export(args) -> int:
    from btb.workflows.export import export

    for path in export(args.profile, args.scenario, Path(args.out), _root(args.root), args.seed):
        print(path)
    return 0


def cmd_report(args) -> int:
    from btb.workflows.report import report

    r = report([Path(d) for d in args.results], Path(args.out), args.threshold,
               noise_ms=args.noise_ms, log=lambda m: print(m, flush=True))
    print(r.text)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="btb", description="BaseType Benchmark: graph vs relational "
                                "vs RDF engines for building data, RAM as the variable.")
    p.add_argument("--version", action="version", version=f"btb {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    root_help = "dataset root (default: $BTB_DATA or ./datasets)"
    sp = sub.add_parser("profiles", help="list every profile with size estimates")
    sp.add_argument("--seed", type=int, default=DEFAULT_SEED)
    sp.set_defaults(func=cmd_profiles)

    sp = sub.add_parser("generate", help="generate a dataset (deterministic for a seed)")
    sp.add_argument("profile", help="<scale>-<duration>, e.g. tiny-1d, small-2d (btb profiles)")
    sp.add_argument("--seed", type=int, default=DEFAULT_SEED)
    sp.add_argument("--root", help=root_help)
    sp.add_argument("--workers", type=int, help="worker processes (default: CPU count)")
    sp.add_argument("--force", action="store_true", help="regenerate even if present")
    sp.set_defaults(func=cmd_generate)

    rp = sub.add_parser("run", help="load scenarios and measure queries; one JSON per cell")
    rp.add_argument("--profile", required=True, help="dataset profile, e.g. tiny-1d")
    rp.add_argument("--scenarios", nargs="+", required=True, metavar="S",
                    help="P1 P2 M1 M2 O1 O2 F1 F2")
    rp.add_argument("--queries", nargs="+", default=["Q1-Q13"], help="e.g. Q1-Q13, Q2 Q7")
    rp.add_argument("--runtime", default="local",
                    help="local (child processes) or docker (containers; images pinned in "
                         "btb/config/images.py or named by $BTB_IMAGES)")
    rp.add_argument("--ram", nargs="+", metavar="GB",
                    help="RAM levels in GB (2^30 bytes, fractions allowed), e.g. 0.5 1 2 4, or "
                         "`auto` for powers of two around the profile's size; each is the "
                         "engines' memory limit (default: no limit)")
    rp.add_argument("--bisect", type=float, metavar="GB",
                    help="after the levels, narrow RAM_min down to this resolution, e.g. 0.25")
    rp.add_argument("--threshold", type=float, default=1.2,
                    help="RAM_min: each query's p95 at most this times its reference p95, the "
                         "median over the largest level and the levels whose memory peak stayed "
                         f"under {AMPLE_FRACTION * 100:.0f}%% of the limit (default 1.2)")
    rp.add_argument("--noise-ms", type=float, default=1.0,
                    help="RAM_min: a p95 at most this many ms above its reference passes "
                         "whatever the ratio (timing noise of sub-ms queries; default 1, 0 for "
                         "the bare ratio)")
    rp.add_argument("--cold", action="store_true",
                    help="before each cell restart the engines on their data and drop the page "
                         "cache (when permitted); the first run is recorded as cold")
    rp.add_argument("--fresh", action="store_true",
                    help="run every cell again (default: resume, skipping finished cells)")
    rp.add_argument("--results", default="results", help="results directory")
    rp.add_argument("--campaign", help="campaign name (default: the profile)")
    rp.add_argument("--variants", nargs="+", metavar="V", help="small large (default both)")
    rp.add_argument("--n-warmup", type=int, default=2)
    rp.add_argument("--n-runs", type=int, default=5)
    rp.add_argument("--timeout", type=float, default=60.0, help="per query, seconds")
    rp.add_argument("--load-timeout", type=float, metavar="SECONDS",
                    help="give up a load after this long: its servers are stopped and its "
                         "cells recorded `timeout` (default: the profile's rows at 20,000 "
                         "rows/s, at least 600 s)")
    rp.add_argument("--seed", type=int, default=DEFAULT_SEED)
    rp.add_argument("--root", help=root_help)
    rp.set_defaults(func=cmd_run)

    dp = sub.add_parser("doctor", help="what this host can do: cgroups, peak reset, engines, "
                        "docker, disk and RAM for a profile (exit 1 if something fails)")
    dp.add_argument("--profile", help="also check disk and RAM for this profile")
    dp.add_argument("--root", help=root_help)
    dp.add_argument("--results", default="results", help="results directory")
    dp.add_argument("--json", action="store_true", help="machine-readable output")
    dp.set_defaults(func=cmd_doctor)

    ep = sub.add_parser("export", help="write a scenario's load files (CSV, N-Triples)")
    ep.add_argument("profile", help="dataset profile, e.g. tiny-1d")
    ep.add_argument("--scenario", nargs="+", required=True, metavar="S",
                    help="P1 P2 M1 M2 O1 O2 F1 F2")
    ep.add_argument("--out", required=True, help="output directory")
    ep.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ep.add_argument("--root", help=root_help)
    ep.set_defaults(func=cmd_export)

    cp = sub.add_parser("campaign", help="run campaigns on remote hosts (Ansible playbooks)")
    csub = cp.add_subparsers(dest="action", required=True, metavar="ACTION")
    rc = csub.add_parser("remote", help="run a playbook through ansible-runner, printing progress")
    rc.add_argument("--playbook", default="campaign",
                    help="campaign (default), fetch, provision, deploy or site")
    rc.add_argument("--inventory", help="inventory file (default: the repository's "
                    "inventory/example/hosts.yml)")
    rc.add_argument("--profile", help="dataset profile, e.g. medium-1m")
    rc.add_argument("--ram", nargs="+", type=float, metavar="GB", help="RAM levels in GB")
    rc.add_argument("--scenarios", nargs="+", metavar="S", help="P1 P2 M1 M2 O1 O2 F1 F2")
    rc.add_argument("--queries", nargs="+", help="e.g. Q1-Q13")
    rc.add_argument("--name", help="campaign name (default: the profile)")
    rc.add_argument("-e", dest="extra", action="append", metavar="KEY=VALUE",
                    help="any other playbook variable (repeatable)")
    rc.add_argument("--repo", help="btb checkout holding the playbooks (default: this one)")
    cp.set_defaults(func=cmd_campaign)

    rep = sub.add_parser("report", help="HTML report, figures and tidy tables from result files")
    rep.add_argument("results", nargs="+", metavar="RESULTS_DIR",
                     help="result directories (one or many campaigns/hosts; merged)")
    rep.add_argument("--out", required=True, help="report directory (report.html, figures/, "
                     "results.csv, results.parquet)")
    rep.add_argument("--threshold", type=float, default=1.2,
                     help="RAM_min: each query's p95 at most this x its reference p95 (the "
                     "median over the largest level and the ample levels; default 1.2)")
    rep.add_argument("--noise-ms", type=float, default=1.0,
                     help="RAM_min: a p95 at most this many ms above its reference passes "
                          "whatever the ratio (default 1, 0 for the bare ratio)")
    rep.set_defaults(func=cmd_report)

    dp = sub.add_parser("datasets", help="list, verify, extract, push, pull, delete datasets")
    dsub = dp.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, helptext, extra in (
        ("list", "datasets in the root", []),
        ("verify", "recompute every checksum", ["name"]),
        ("extract", "cut fewer days/buildings from a master", ["name"]),
        ("push", "upload to an fsspec URL (file://, memory://, s3://...)", ["name", "url"]),
        ("pull", "download from an fsspec URL of a dataset directory", ["url"]),
        ("delete", "remove a dataset", ["name"]),
    ):
        a = dsub.add_parser(action, help=helptext)
        for pos in extra:
            a.add_argument(pos)
        if action == "extract":
            a.add_argument("--to", required=True, metavar="PROFILE", help="target profile")
        a.add_argument("--root", help=root_help)
    dp.set_defaults(func=cmd_datasets)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except BtbError as e:
        print(f"btb: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("btb: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
