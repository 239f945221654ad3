#!/usr/bin/env bash
# Set up (scripts/setup.sh), then run every test. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh --test
exec python3 -m pytest -q "$@"
