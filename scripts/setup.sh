#!/usr/bin/env bash
# Idempotent setup of everything this repo needs, from a fresh Debian 12 machine (Python 3.11, Node 20).
# Re-runs are cheap: each step is skipped while its inputs are unchanged.
#   scripts/setup.sh          the Python env and the Node packages (enough for `make dev`)
#   scripts/setup.sh --all    also what the full test suite needs (Chromium, the SAM CLI env)
#   scripts/setup.sh --bench  --all, and Debian's Postgres (pg_stat_statements) for bench/admission.py
set -euo pipefail
cd "$(dirname "$0")/.."

want_all=false want_bench=false
[[ "${1:-}" == "--all" ]] && want_all=true
[[ "${1:-}" == "--bench" ]] && want_all=true && want_bench=true

apt_install() {
  local missing=()
  for package in "$@"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
  [[ ${#missing[@]} -eq 0 ]] && return
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "setup: installing ${missing[*]} with apt-get"
  $sudo apt-get update -qq && $sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Runs "$@" only when the files named by $stamp's inputs changed since the last successful run.
when_changed() {
  local stamp=$1 inputs=$2; shift 2
  local digest
  digest=$(cat $inputs | sha256sum | cut -d' ' -f1)
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$digest" ]]; then return; fi
  "$@"
  echo "$digest" >"$stamp"
}

python3 -m venv --help >/dev/null 2>&1 && python3 -c "import ensurepip" 2>/dev/null || apt_install python3-venv
[[ -x .venv/bin/python ]] || python3 -m venv .venv
install_python() {
  echo "setup: installing Python packages (requirements-dev.lock, hashes checked)"
  .venv/bin/pip install -q --disable-pip-version-check --require-hashes -r requirements-dev.lock
  .venv/bin/pip install -q --disable-pip-version-check --no-deps -e layers/sync_core
}
when_changed .venv/.installed "requirements-dev.lock layers/sync_core/pyproject.toml" install_python

install_node() {
  echo "setup: npm ci in $1"
  (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
}
for package_dir in client tests/contract; do
  [[ -f "$package_dir/package-lock.json" ]] || continue
  mkdir -p "$package_dir/node_modules"
  when_changed "$package_dir/node_modules/.installed" "$package_dir/package-lock.json" install_node "$package_dir"
done

if $want_bench; then
  compgen -G "/usr/lib/postgresql/*/lib/pg_stat_statements.so" >/dev/null || apt_install postgresql
fi
if $want_all; then
  [[ -f scripts/install-chromium.sh ]] && bash scripts/install-chromium.sh
  [[ -f scripts/setup-sam-tools.sh ]] && bash scripts/setup-sam-tools.sh
fi
exit 0
