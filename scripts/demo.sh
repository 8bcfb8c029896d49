#!/usr/bin/env bash
# The newcomer's demo: install, generate the tiny dataset, list the registered datasets.
#
#   bash scripts/demo.sh            # datasets go to ./datasets
#   BTB_DATA=/big/disk bash scripts/demo.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh

DATA_ROOT="${BTB_DATA:-./datasets}"
echo "[demo] generating profile tiny-1d into $DATA_ROOT"
.venv/bin/btb generate tiny-1d --root "$DATA_ROOT"
echo "[demo] datasets in $DATA_ROOT"
.venv/bin/btb datasets list --root "$DATA_ROOT"
