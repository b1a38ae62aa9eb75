#!/usr/bin/env bash
# Homing against Dovecot's LMTP on the same dovecot.conf (issue 12's benchmark).
#
# Installs what is missing (dovecot-lmtpd, dovecot-pgsql, dovecot-sieve, postfix for
# smtp-source, postgresql), makes a throwaway PostgreSQL cluster with 1,000 users, writes one
# dovecot.conf (PostgreSQL userdb, mail_plugins = quota sieve, mail_fsync = optimized, a
# default Sieve script), then for each load runs Dovecot's LMTP and `homing serve` on that
# same file in alternating rounds with Postfix's `smtp-source -L` over the unix socket, and
# prints msgs/s, peak RSS, CPU µs per message and the Homing/Dovecot ratio (medians over rounds).
#
#   bench/compare-dovecot.sh [--quick] [--rounds N] [--homing PATH] [--loads a,b,...]
#
# --quick: a tenth of the counts, one round. Loads: 1conn 8conn 32conn 10mb oneuser.
# Must run as root (Dovecot's master, users' uids). Everything lives in a temporary directory
# removed at the end; the servers are stopped after each run.
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
[ "$(id -u)" -eq 0 ] || { echo "compare-dovecot.sh: run as root (Dovecot's master starts as root)" >&2; exit 1; }
if [ ! -x "$homing" ]; then
  echo "compare-dovecot.sh: no $homing; build it first: swift build -c release --product homing" >&2
  exit 1
fi
missing=()
for package in dovecot-lmtpd dovecot-pgsql dovecot-sieve postfix postgresql python3; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  # Postfix asks for its mail configuration type; "No configuration" is all smtp-source needs.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi
# Debian's packages start their services; the benchmark runs its own copies only.
systemctl stop dovecot 2>/dev/null || true
exec python3 "$here/compare_dovecot.py" --homing "$homing" "${args[@]}"
