#!/usr/bin/env bash
# The newcomer's demo: install, generate the tiny dataset, run every scenario whose engine can
# run on this machine (answers checked against the reference), print the summary table, write the
# HTML report (report/report.html).
#
#   bash scripts/demo.sh            # datasets in ./datasets, results in ./results, report in ./report
#   BTB_DATA=/big/disk BTB_RESULTS=/tmp/res BTB_REPORT=/tmp/rep bash scripts/demo.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh

DATA_ROOT="${BTB_DATA:-./datasets}"
RESULTS="${BTB_RESULTS:-./results}"
echo "[demo] generating profile tiny-1d into $DATA_ROOT"
.venv/bin/btb generate tiny-1d --root "$DATA_ROOT"
echo "[demo] running P1 P2 O1 O2 F1 F2 on tiny-1d (local engines) into $RESULTS"
.venv/bin/btb run --profile tiny-1d --scenarios P1 P2 O1 O2 F1 F2 --root "$DATA_ROOT" \
    --results "$RESULTS" --n-warmup 1 --n-runs 3
REPORT="${BTB_REPORT:-./report}"
echo "[demo] writing the report into $REPORT"
.venv/bin/btb report "$RESULTS" --out "$REPORT"
