#!/usr/bin/env bash
# Create the project's virtual environment with Python 3.11 and install the project into it.
set -euo pipefail
venv=${1:-.venv}

is_311() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1; }

find_python() {
  local candidates=("${PYTHON311:-}" python3.11 python3)
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=("$(pyenv root)"/versions/3.11*/bin/python3.11)
  fi
  for c in "${candidates[@]}"; do
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && is_311 "$c" && { command -v "$c"; return 0; }
  done
  return 1
}

py=$(find_python) || {
  echo "Citizen Helpline needs Python 3.11: install it, or set PYTHON311=/path/to/python3.11" >&2
  exit 1
}
[ -x "$venv/bin/python" ] || { echo "Creating $venv with $py"; "$py" -m venv "$venv"; }
echo "Installing Citizen Helpline into $venv (the first time takes a minute)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]' \
  2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
