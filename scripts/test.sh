#!/usr/bin/env bash
# Set everything up if needed and run the whole test suite (slow tests included). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test,ray  # ray: ~16 s to install, ~15 s of tests (tests/test_ray_build.py)
# The browser tests drive Debian's Chromium (Playwright's own browser download needs the network).
# Neither download is fatal: without them the browser tests skip and say why.
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
        || echo "warning: could not install chromium; the browser tests will skip" >&2
fi
# The accessibility audit of the browser tests runs axe-core, from npm, kept outside the repository.
export QA_AXE_DIR="${QA_AXE_DIR:-$HOME/.cache/qa-axe}"
if [ ! -f "$QA_AXE_DIR/node_modules/axe-core/axe.min.js" ] && command -v npm >/dev/null 2>&1; then
    # Behind a TLS-inspecting proxy npm trusts only what Node is told to: the system's bundle holds its certificate.
    if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
        export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
    fi
    { mkdir -p "$QA_AXE_DIR" && npm install --no-save --silent --prefix "$QA_AXE_DIR" axe-core@4 >/dev/null; } \
        || echo "warning: could not install axe-core from npm; the accessibility audit will skip" >&2
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
# Plain `pytest` skips the slow tests (pyproject addopts); this command, and so CI, runs everything.
exec .venv/bin/python -m pytest -m "slow or not slow" "$@"
