#!/usr/bin/env bash
# Installs the system programs the tests use, when they are missing (Debian, as root).
# Idempotent: a machine that already has them is left as it is.
set -euo pipefail

need=()
command -v git >/dev/null || need+=(git)
command -v sha256sum >/dev/null || need+=(coreutils)
[ -x /usr/bin/time ] || need+=(time)

if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing: ${need[*]} (install them, or run as root)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

# The probe is tested on the oldest and newest supported Pythons, and refuses Python 2.7; 3.12 gives
# a venv without setuptools. Debian's own python3 (with its dist-packages) is part of the image.
root="${PYENV_ROOT:-$HOME/.pyenv}"
for v in 2.7 3.6 3.11 3.12 3.13; do
  if ! ls -d "$root"/versions/"$v"* >/dev/null 2>&1; then
    echo "warning: no Python $v under $root/versions; tests that need it will fail under CI" >&2
  fi
done
