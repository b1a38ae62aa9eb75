#!/usr/bin/env bash
# Issue 15's scale-out benchmark: three Homing nodes on loopback sharing one PostgreSQL with
# 1,000 users spread over them, smtp-source delivering to one front with lmtp_proxy = yes.
# Prints the front's CPU per relayed message against a local delivery's and checks that every
# message landed on its user's node (see bench/scale_out.py).
#
#   bench/scale-out.sh [--homing PATH] [--messages N] [--connections N] [--size BYTES] [--keep]
#
# Must run as root (the throwaway PostgreSQL cluster runs as the postgres user). Installs
# postgresql and postfix (for smtp-source) when missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
homing="$here/../.build/release/homing"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --homing) homing=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "scale-out.sh: run as root" >&2; exit 1; }
if [ ! -x "$homing" ]; then
  echo "scale-out.sh: no $homing; build it first: swift build -c release --product homing" >&2
  exit 1
fi
missing=()
for package in postfix postgresql python3; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi
exec python3 "$here/scale_out.py" --homing "$homing" "${args[@]}"
