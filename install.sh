#!/usr/bin/env bash
# Installs ves-log-collector from this checkout: checks Node, installs the locked dependencies,
# builds the single-file binary and links it onto the PATH. Safe to run again.
#
#   ./install.sh                 link into /usr/local/bin (root) or ~/.local/bin (others)
#   ./install.sh --prefix DIR    link into DIR/bin
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done

step() { printf '==> %s\n' "$*"; }
fail() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

# 1. Node >= 20.19 (chokidar 5 and the bundle target need it).
need_major=20 need_minor=19
command -v node >/dev/null 2>&1 || fail "Node.js is not installed. Install Node ${need_major}.${need_minor} or newer (https://nodejs.org, or your distribution's nodejs package / nvm) and run ./install.sh again."
ver="$(node -p 'process.versions.node')"
major="${ver%%.*}"; rest="${ver#*.}"; minor="${rest%%.*}"
if [ "$major" -lt "$need_major" ] || { [ "$major" -eq "$need_major" ] && [ "$minor" -lt "$need_minor" ]; }; then
  fail "Node $ver is too old: ves-log-collector needs Node ${need_major}.${need_minor} or newer. Upgrade with nvm ('nvm install 20') or your package manager, then run ./install.sh again."
fi
command -v npm >/dev/null 2>&1 || fail "npm is not installed (it ships with Node.js)."
step "Node $ver found"

# 2. Locked dependencies and the build.
cd "$here"
step "Installing dependencies (npm ci)"
npm ci --no-audit --no-fund --loglevel=error
step "Building dist/ves-log-collector.cjs"
npm run --silent build

# 3. Link the binary onto the PATH.
if [ -n "$prefix" ]; then bindir="$prefix/bin"
elif [ "$(id -u)" -eq 0 ]; then bindir=/usr/local/bin
else bindir="$HOME/.local/bin"; fi
mkdir -p "$bindir"
ln -sfn "$here/dist/ves-log-collector.cjs" "$bindir/ves-log-collector"
step "Linked $bindir/ves-log-collector -> $here/dist/ves-log-collector.cjs"

case ":$PATH:" in
  *":$bindir:"*) ;;
  *) printf '\nNote: %s is not on your PATH. Add it with:\n  export PATH="%s:$PATH"\n' "$bindir" "$bindir" ;;
esac
printf '\nDone: %s\nTry it:  ves-log-collector --demo\n' "$("$bindir/ves-log-collector" --version)"
