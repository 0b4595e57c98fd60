#!/usr/bin/env bash
# Set everything up if needed, sync seeds/ into indexes/default, and show a demo search.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
.venv/bin/qa index "${QA_ARTICLES_DIR:-seeds}"
.venv/bin/qa search "who was arrested?" -k 3
.venv/bin/qa ask "who was arrested?"
