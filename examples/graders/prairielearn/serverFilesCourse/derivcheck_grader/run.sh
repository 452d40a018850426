#!/usr/bin/env bash
# PrairieLearn's entrypoint for the external grader container.
set -euo pipefail
python3 -c "import derivcheck" 2>/dev/null || pip3 install -q derivcheck
python3 /grade/serverFilesCourse/derivcheck_grader/grade.py
