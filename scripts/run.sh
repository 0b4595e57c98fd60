#!/usr/bin/env bash
# Set everything up if needed, sync seeds/ into indexes/default, answer a demo question, then serve the web chat
# on http://127.0.0.1:7860 (QA_HOST/QA_PORT to change) until interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
.venv/bin/qa index "${QA_ARTICLES_DIR:-seeds}"
.venv/bin/qa ask "who was arrested?"
exec .venv/bin/python app.py "$@"
