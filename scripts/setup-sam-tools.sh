#!/usr/bin/env bash
# Make the tools that check, build and benchmark the SAM application. Idempotent: a second run only
# checks what the first one made.
#
#   .venv-sam/        aws-sam-cli, cfn-lint and actionlint (tools/sam/requirements.lock). A venv of
#                     its own: SAM CLI's pins clash with the application's.
#   python3.13        the Lambda runtime's CPython, used by the layer build to write cpython-313 .pyc
#                     and by bench/cold_start.py. Taken from PATH when there is one (CI, a developer's
#                     machine); otherwise built once from Debian's python3.13 source package into
#                     ${APPFRAMES_TOOLS_DIR:-~/.cache/appframes-sync}/cpython-3.13 (about 4 minutes on
#                     2 cores), because Debian 12 ships only 3.11 and no other registry reached from
#                     here has a prebuilt 3.13.
#
# Prints the python3.13 path on its last line. Usage: scripts/setup-sam-tools.sh [--no-python313]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="${APPFRAMES_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/appframes-sync}"
VENV="$ROOT/.venv-sam"
REQUIREMENTS="$ROOT/tools/sam/requirements.lock"
PY313_PREFIX="$TOOLS_DIR/cpython-3.13"
PY313_DEBIAN_SUITE="${PY313_DEBIAN_SUITE:-trixie}"

log() { printf 'setup-sam-tools: %s\n' "$*" >&2; }

sam_venv() {
    local stamp="$VENV/.requirements.sha256"
    local want
    want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
    if [[ -x "$VENV/bin/sam" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        return
    fi
    log "creating $VENV from tools/sam/requirements.lock"
    # --no-deps: the lock holds every dependency already; pip would otherwise take aws-sam-cli's
    # boto3-stubs[...] extras request for a requirement of its own, without a pin or hash.
    python3 -m venv "$VENV"
    if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check --require-hashes --no-deps -r "$REQUIREMENTS" >"$VENV/pip-install.log" 2>&1; then
        cat "$VENV/pip-install.log" >&2
        exit 1
    fi
    echo "$want" >"$stamp"
}

find_python313() {
    local candidate
    for candidate in "${PYTHON313:-}" "$(command -v python3.13 || true)" "$PY313_PREFIX/bin/python3.13"; do
        if [[ -n "$candidate" && -x "$candidate" ]] &&
            "$candidate" -c 'import sys, ssl, zlib; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

# What CPython's build needs for the modules the layer build and the benchmark use (ssl, zlib, ...).
install_build_dependencies() {
    local packages=(build-essential libssl-dev zlib1g-dev libffi-dev libbz2-dev liblzma-dev xz-utils
        debian-archive-keyring)
    local missing=()
    for package in "${packages[@]}"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
    [[ ${#missing[@]} -eq 0 ]] && return
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    log "installing build dependencies: ${missing[*]}"
    $sudo apt-get update -qq >/dev/null
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

build_python313() {
    install_build_dependencies
    local work="$TOOLS_DIR/cpython-3.13-build"
    local apt_dir="$work/apt"
    rm -rf "$work"
    mkdir -p "$apt_dir"/{lists/partial,archives/partial,sources} "$work/src"
    # A private apt configuration: the machine's own sources and state are left as they are.
    cat >"$apt_dir/sources/debian-src.sources" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $PY313_DEBIAN_SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    local apt_options=(
        -o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt_dir/sources"
        -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache::Archives=$apt_dir/archives"
        -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root"
    )
    log "fetching Debian's python3.13 source package ($PY313_DEBIAN_SUITE)"
    apt-get "${apt_options[@]}" update >/dev/null
    (cd "$work/src" && apt-get "${apt_options[@]}" source --download-only python3.13 >/dev/null)
    local tarball
    tarball="$(ls "$work"/src/python3.13_*.orig.tar.xz)"
    tar -xJf "$tarball" -C "$work/src"
    local source_dir
    source_dir="$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'Python-3.13*' | head -1)"
    log "building CPython from $(basename "$source_dir") into $PY313_PREFIX"
    local step
    for step in configure make install; do
        if ! (cd "$source_dir" && build_step "$step") >"$work/$step.log" 2>&1; then
            log "CPython's $step failed; the end of $work/$step.log:"
            tail -n 30 "$work/$step.log" >&2
            exit 1
        fi
    done
    rm -rf "$work"
}

build_step() {
    case "$1" in
    configure) ./configure --prefix="$PY313_PREFIX" --without-ensurepip --disable-test-modules ;;
    make) make -j"$(nproc)" ;;
    install) make altinstall ;;
    esac
}

sam_venv
if [[ "${1:-}" == "--no-python313" ]]; then
    exit 0
fi
if ! python313="$(find_python313)"; then
    # One build at a time: two checkouts set up at once would share (and wipe) one build directory.
    mkdir -p "$TOOLS_DIR"
    exec 9>"$TOOLS_DIR/cpython-3.13.lock"
    flock 9
    python313="$(find_python313)" || build_python313
    python313="$(find_python313)" || { log "python3.13 build failed"; exit 1; }
fi
echo "$python313"
