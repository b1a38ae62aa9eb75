#!/usr/bin/env bash
# Runs Homing on the quick-start configuration: LMTP on 127.0.0.1:2424 and run/lmtp,
# users from quickstart/users, mail under run/mail/<domain>/<user>/Maildir.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
homing=${1:-$top/.build/release/homing}
run=$top/run
mkdir -p "$run/mail" "$run/tmp"
chmod 1777 "$run/tmp"
if [ "$(id -u)" -eq 0 ]; then
    # Never deliver as root: the quick start writes mail as nobody:nogroup.
    uid=$(id -u nobody); gid=$(getent group nogroup | cut -d: -f3)
    chown "$uid:$gid" "$run/mail"
else
    uid=$(id -u); gid=$(id -g)
fi
sed -e "s|@RUN@|$run|g" -e "s|@DIR@|$top/quickstart|g" -e "s|@UID@|$uid|g" -e "s|@GID@|$gid|g" \
    "$top/quickstart/homing.conf.in" > "$run/homing.conf"
cat <<MSG
Homing is starting with $run/homing.conf (Ctrl-C stops it).
Look a user up:   $homing user -c $run/homing.conf alice@example.com
Send a message:   swaks --server 127.0.0.1:2424 --protocol LMTP --from sender@example.org --to alice@example.com
                  (or --socket $run/lmtp instead of --server)
Then look at:     find $run/mail -type f
Quota:            $homing quota get -c $run/homing.conf carol@example.org
Try a script:     $homing sieve-test -f sender@example.org $top/quickstart/default.sieve <message file>
MSG
exec "$homing" serve -c "$run/homing.conf"
