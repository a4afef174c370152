#!/usr/bin/env bash
# Every check: lint, format, types, then pytest (unit + end-to-end in real Chromium) in a private network namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== ruff check"; .venv/bin/ruff check .
echo "== ruff format --check"; .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== pytest"
exec tools/netns.sh .venv/bin/python -m pytest --durations=15 "$@"
