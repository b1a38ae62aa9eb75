#!/usr/bin/env bash
# Homing benchmarks: starts a release build on a throwaway configuration (passwd-file users,
# mail under a temporary directory, LMTP on a free loopback port) and measures
#   1. many small messages over parallel connections (rate, latency),
#   2. one 100 MB message (throughput, server peak memory growth),
#   3. the same with mail_plugins = quota sieve (a per-user script with header and body tests).
# Bounded: fixed counts and a time limit per run; everything stops by itself.
set -euo pipefail
homing=${1:-$(cd "$(dirname "$0")/.." && pwd)/.build/release/homing}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/homing-bench.XXXXXX); chmod 755 "$dir"
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
uid=$(id -u); gid=$(id -g)
if [ "$uid" -eq 0 ]; then uid=$(id -u nobody); gid=$(getent group nogroup | cut -d: -f3); fi
mkdir -p "$dir/mail" "$dir/run" "$dir/tmp"; chown "$uid:$gid" "$dir/mail"; chmod 1777 "$dir/tmp"
cat > "$dir/users" <<USERS
alice@example.com::$uid:$gid::$dir/mail/example.com/alice::
bob@example.com::$uid:$gid::$dir/mail/example.com/bob::
carol@example.org::$uid:$gid::$dir/mail/example.org/carol::
USERS
cat > "$dir/homing.conf" <<CONF
protocols = lmtp
base_dir = $dir/run
postmaster_address = postmaster@example.com
mail_location = maildir:~/Maildir
mail_temp_dir = $dir/tmp
first_valid_uid = 1
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $port
  }
}
userdb {
  driver = passwd-file
  args = $dir/users
}
CONF
"$homing" serve -c "$dir/homing.conf" 2> "$dir/homing.log" &
pid=$!
for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port))" 2>/dev/null && break; sleep 0.1; done
rss() { awk "/^$1:/ {print \$2}" /proc/$pid/status; }
echo "== small messages: 2000 x 4 kB, 8 connections, 1 recipient"
python3 "$here/lmtp_load.py" --port "$port" --count 2000 --size 4000 --connections 8
echo "== small messages: 1000 x 4 kB, 8 connections, 3 recipients"
python3 "$here/lmtp_load.py" --port "$port" --count 1000 --size 4000 --connections 8 --recipients 3
echo "server RSS after small messages: $(rss VmRSS) kB (peak $(rss VmHWM) kB)"
before=$(rss VmRSS)
echo "== one 100 MB message"
python3 "$here/lmtp_load.py" --port "$port" --count 1 --size 100000000 --connections 1
echo "server RSS: before $before kB, peak $(rss VmHWM) kB"

# 3. With the seed's plugins: quota and a Sieve script for every user.
kill $pid; wait $pid 2>/dev/null || true
for user in alice bob; do
  mkdir -p "$dir/mail/example.com/$user"
  cat > "$dir/mail/example.com/$user/.dovecot.sieve" <<'SIEVE'
require ["fileinto", "imap4flags", "variables", "body"];
if header :contains "subject" ["[spam]", "viagra"] { fileinto "Junk"; stop; }
if address :domain :is "from" "lists.example.net" { fileinto "Lists"; stop; }
if body :text :contains "unsubscribe" { addflag "\\Seen"; }
if header :matches "subject" "*urgent*" { addflag "\\Flagged"; }
SIEVE
  chown -R "$uid:$gid" "$dir/mail/example.com/$user"
done
sed -e 's/^service lmtp {/protocol lmtp {\n  mail_plugins = quota sieve\n}\nplugin {\n  quota = maildir:User quota\n  quota_rule = *:storage=10G\n  sieve = file:~\/sieve;active=~\/.dovecot.sieve\n}\nservice lmtp {/' \
    "$dir/homing.conf" > "$dir/homing-plugins.conf"
"$homing" serve -c "$dir/homing-plugins.conf" 2> "$dir/homing-plugins.log" &
pid=$!
for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port))" 2>/dev/null && break; sleep 0.1; done
echo "== with quota and sieve: 2000 x 4 kB, 8 connections, 1 recipient"
python3 "$here/lmtp_load.py" --port "$port" --count 2000 --size 4000 --connections 8
before=$(rss VmRSS)
echo "== with quota and sieve: one 100 MB message"
python3 "$here/lmtp_load.py" --port "$port" --count 1 --size 100000000 --connections 1
echo "server RSS: before $before kB, peak $(rss VmHWM) kB"
