#!/usr/bin/env bash
# The Rasa NLU server in its own Python 3.10 environment.
#   scripts/rasa.sh env     build the venv once (per requirements hash)
#   scripts/rasa.sh train   train $MODELS/nlu-<hash>.tar.gz unless it exists
#   scripts/rasa.sh serve   exec `rasa run --enable-api` on 127.0.0.1:${HELPLINE_RASA_PORT:-5005}
#   scripts/rasa.sh path    print the model path for the current config and data
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NLU="$ROOT/nlu"
REQS="$NLU/requirements-rasa.txt"
# Models are named by the hash of their config and data and kept outside the checkout, so every clone
# (and CI) reuses a model trained once.
MODELS="${HELPLINE_RASA_MODELS:-${XDG_CACHE_HOME:-$HOME/.cache}/citizen-helpline/models}"

export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL=3
export TF_ENABLE_ONEDNN_OPTS=0
export PYTHONWARNINGS="ignore"
export SQLALCHEMY_SILENCE_UBER_WARNING=1
export PIP_DISABLE_PIP_VERSION_CHECK=1
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/citizen-helpline"
export RASA_CACHE_DIRECTORY="${RASA_CACHE_DIRECTORY:-$CACHE/rasa-training-cache}"

die() { echo "rasa.sh: $2" >&2; exit "$1"; }

sha() { sha256sum | cut -c1-64; }

is_py310() { [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }

find_python310() {
    local candidates=("${PYTHON310:-}")
    candidates+=("$(command -v python3.10 2>/dev/null || true)")
    local root
    root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
    candidates+=("$root"/versions/3.10.*/bin/python3.10)
    local c
    for c in "${candidates[@]}"; do
        if is_py310 "$c"; then echo "$c"; return 0; fi
    done
    return 1
}

venv_dir() {
    local h
    h="$(sha < "$REQS" | cut -c1-12)"
    echo "$CACHE/rasa-$h"
}

cmd_env() {
    local venv stamp py
    venv="$(venv_dir)"
    stamp="$venv/.complete"
    [ -f "$stamp" ] && return 0
    py="$(find_python310)" || die 3 "Python 3.10 not found (set PYTHON310, put python3.10 on PATH or install it with pyenv); Rasa 3.6 needs it."
    echo "rasa.sh: building the Rasa environment in $venv (a few minutes, once)" >&2
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install -qq --upgrade "pip<24.1" "setuptools<70" wheel
    "$venv/bin/python" -m pip install -qq -r "$REQS"
    touch "$stamp"
}

model_hash() {  # $1: a directory with config.yml and data/
    (cd "$1" && { echo config.yml; find data -name '*.yml' | LC_ALL=C sort; } |
        while read -r f; do printf '%s\n' "$f"; sha < "$f"; done) | sha | cut -c1-12
}

model_path() { echo "$MODELS/nlu-$(model_hash "${1:-$NLU}").tar.gz"; }

rasa_bin() {
    local bin
    bin="$(venv_dir)/bin/rasa"
    [ -f "$(venv_dir)/.complete" ] || die 3 "the Rasa environment is not built; run: scripts/rasa.sh env"
    echo "$bin"
}

cmd_train() {
    local model name bin log snapshot
    [ -f "$(model_path)" ] && return 0
    bin="$(rasa_bin)"
    mkdir -p "$MODELS"
    exec 9>"$MODELS/.train.lock"
    flock 9
    snapshot="$(mktemp -d)"
    trap "rm -rf '$snapshot'" EXIT
    cp "$NLU/config.yml" "$snapshot/" && cp -r "$NLU/data" "$snapshot/data"
    model="$(model_path "$snapshot")"
    [ -f "$model" ] && return 0
    name="$(basename "$model" .tar.gz)"
    log="$MODELS/$name.log"
    echo "rasa.sh: training $name (log: ${log#"$ROOT/"})" >&2
    if ! "$bin" train nlu --config "$snapshot/config.yml" --nlu "$snapshot/data" --out "$MODELS" \
            --fixed-model-name "$name" >"$log" 2>&1; then
        grep -v -i -E 'warning|^\s|^$' "$log" | tail -n 20 >&2
        die 1 "training failed; see $log"
    fi
    [ -f "$model" ] || die 1 "training finished but $model is missing; see $log"
}

cmd_serve() {
    local model bin
    model="$(model_path)"
    [ -f "$model" ] || die 1 "no model for the current data; run: scripts/rasa.sh train"
    [ -n "${HELPLINE_RASA_TOKEN:-}" ] || die 2 "HELPLINE_RASA_TOKEN is not set; the server must not run without a token"
    bin="$(rasa_bin)"
    cd "$NLU"
    exec "$bin" run --enable-api -i 127.0.0.1 -p "${HELPLINE_RASA_PORT:-5005}" \
        --auth-token="$HELPLINE_RASA_TOKEN" -m "$model" --quiet
}

case "${1:-}" in
    env) cmd_env ;;
    train) cmd_train ;;
    serve) cmd_serve ;;
    path) model_path ;;
    *) echo "usage: scripts/rasa.sh env|train|serve|path" >&2; exit 2 ;;
esac
