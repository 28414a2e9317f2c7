#!/usr/bin/env bash
# `make lock`: every Python dependency, transitive ones included, pinned with the sha256 of each of its
# files, compiled by uv from the hand-written requirement files. Installs check those hashes
# (pip --require-hashes): scripts/setup.sh, scripts/setup-sam-tools.sh and the layer build.
#   requirements-dev.lock                 the development venv (.venv/, CPython 3.11, any Linux)
#   layers/sync_core/requirements.lock    the layer as Lambda runs it (CPython 3.13, manylinux aarch64)
#   tools/sam/requirements.lock           the SAM tools' venv (.venv-sam/)
# Re-run it after editing a requirements*.txt; uv keeps the pins it already has unless --upgrade is
# passed through (`make lock ARGS=--upgrade`).
set -euo pipefail
cd "$(dirname "$0")/.."
uv=.venv/bin/uv
compile() { "$uv" pip compile --quiet --generate-hashes --no-header --annotation-style line "$@"; }

compile layers/sync_core/requirements.txt -o layers/sync_core/requirements.lock \
  --python-version 3.13 --python-platform aarch64-manylinux_2_28 "$@"
compile requirements-dev.txt -o requirements-dev.lock --universal --python-version 3.11 "$@"
compile tools/sam/requirements.txt -o tools/sam/requirements.lock --universal --python-version 3.11 "$@"
