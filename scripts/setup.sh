#!/usr/bin/env bash
# Create .venv/ and install the project, idempotently. On a machine without an NVIDIA GPU the CPU build of torch
# is installed first, so nothing pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
VPY=.venv/bin/python
stamp=.venv/.qa-installed
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1) ${1:-}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
"$VPY" -m pip install -q --upgrade pip
if ! "$VPY" -c "import torch" 2>/dev/null; then
    if command -v nvidia-smi >/dev/null 2>&1; then
        "$VPY" -m pip install -q torch
    else
        # torch==2.13.0 resolves to a local CPU wheel on these machines; elsewhere the CPU index serves it.
        "$VPY" -m pip install -q torch==2.13.0 2>/dev/null \
            || "$VPY" -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu
    fi
fi
extras="${1:-}"
"$VPY" -m pip install -q -e ".${extras:+[$extras]}"
echo "$want" > "$stamp"
