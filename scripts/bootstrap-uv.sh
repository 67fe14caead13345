#!/usr/bin/env bash
# Install the pinned uv (scripts/uv-requirements.txt, hash-checked) into a small venv of its own, so
# that a machine needs nothing but Python 3.11+ to start. `make` calls this; it is idempotent.
# Usage: scripts/bootstrap-uv.sh [DIR]   (default .uv; then DIR/bin/uv)
# PYTHON picks the interpreter (default python3). pip's own configuration (index, find-links,
# certificates) applies here, as it does to any pip install.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-.uv}
python=${PYTHON:-python3}
requirements=scripts/uv-requirements.txt
wanted=$(sed -n 's/^uv==\([^ ]*\).*/\1/p' "$requirements")

if [ -x "$dir/bin/uv" ] && [ "$("$dir/bin/uv" --version 2>/dev/null | cut -d' ' -f2)" = "$wanted" ]; then
  exit 0
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "bootstrap-uv: $python is missing or older than Python 3.11: set PYTHON=/path/to/python3.11" >&2
  exit 2
fi

rm -rf "$dir"
pip_args=(install --quiet --disable-pip-version-check --no-deps --require-hashes -r "$requirements")
# Fast path: a venv without pip, filled by the interpreter's own pip (pip >= 22.3 has --python).
# Otherwise (no pip, or an older one) a venv with pip (ensurepip), which takes a few seconds more.
if "$python" -m venv --without-pip "$dir" \
  && "$python" -m pip --python "$dir/bin/python" "${pip_args[@]}" 2>/dev/null; then
  :
else
  rm -rf "$dir"
  "$python" -m venv "$dir"
  "$dir/bin/python" -m pip "${pip_args[@]}"
fi
"$dir/bin/uv" --version >/dev/null
