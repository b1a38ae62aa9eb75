#!/usr/bin/env python3
"""Three Homing nodes sharing one PostgreSQL, a front relaying by passdb (issue 15's goal).

Run through bench/scale-out.sh. One PostgreSQL cluster holds 1,000 users, each assigned to
node 0, 1 or 2 (user i to node i mod 3). Every node runs `homing serve` with the same kind of
configuration (its own base_dir, port and mail root): `lmtp_proxy = yes`, an sql passdb whose
password_query returns `proxy_maybe`, `host` and the port of the user's node, and an sql userdb.
Postfix's `smtp-source -L` delivers to node 0's unix socket only.

Two measurements, CPU time of the one process that receives the mail:
- local: node 0 alone with `lmtp_proxy = no`, every user stored there: CPU per message of a
  local delivery;
- front: the three nodes, node 0 relaying two thirds of the messages: node 0's CPU per message,
  and per relayed message (node 0's CPU minus its local third at the local cost).
Then it checks that every message landed on its user's node, and prints the ratio of a relay
to a local delivery (the goal: at most 1/3).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_dovecot as common  # noqa: E402

USERS = 1000
NODES = 3
# The uid and gid mail is stored as (never root, which Homing refuses).
MAIL_ID = 5000


def user_expr():
    # smtp-source -N sends to 1user@, 2user@...: message n goes to user (n mod 1000).
    return ("'user' || mod(coalesce(nullif(substring('%n' from '^[0-9]+'), ''), '0')::int, "
            f"{USERS}) || '@example.com'")


def write_node(base, index, pg_port, ports, proxy):
    node = os.path.join(base, f"node{index}")
    for sub in ("run", "tmp", "mail"):
        os.makedirs(os.path.join(node, sub), exist_ok=True)
    os.chmod(os.path.join(node, "tmp"), 0o1777)
    cases = " ".join(f"WHEN {n} THEN {ports[n]}" for n in range(NODES))
    sql = os.path.join(node, "dovecot-sql.conf.ext")
    with open(sql, "w") as f:
        f.write(f"""driver = pgsql
connect = host=127.0.0.1 port={pg_port} dbname=postgres user=postgres
user_query = SELECT '{base}/node' || node || '/mail/' || userid AS home, uid, gid FROM users WHERE userid = {user_expr()}
password_query = SELECT NULL AS password, 'Y' AS nopassword, 'Y' AS proxy_maybe, '127.0.0.1' AS host, \\
  CASE node {cases} END AS port FROM users WHERE userid = {user_expr()}
""")
    conf = os.path.join(node, "homing.conf")
    with open(conf, "w") as f:
        f.write(f"""protocols = lmtp
base_dir = {node}/run
log_path = {node}/server.log
hostname = node{index}.example.com
postmaster_address = postmaster@example.com
mail_location = maildir:~/Maildir
mail_temp_dir = {node}/tmp
first_valid_uid = 1
lmtp_proxy = {"yes" if proxy else "no"}
login_trusted_networks = 127.0.0.1
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {ports[index]}
  }}
}}
passdb {{
  driver = sql
  args = {sql}
}}
userdb {{
  driver = sql
  args = {sql}
}}
""")
    return node, conf


def start(node, conf, homing):
    socket_path = os.path.join(node, "run", "lmtp")
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    proc = subprocess.Popen([homing, "serve", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(node, "homing.err"), "a"))
    common.wait_for_socket(socket_path, proc)
    return proc


def count(node):
    mail = os.path.join(node, "mail")
    total = 0
    for user in os.listdir(mail):
        new = os.path.join(mail, user, "Maildir", "new")
        if os.path.isdir(new):
            total += len(os.listdir(new))
    return total


def misplaced(base):
    """Messages stored on a node other than their user's."""
    wrong = 0
    for index in range(NODES):
        mail = os.path.join(base, f"node{index}", "mail")
        for user in os.listdir(mail):
            if not user.startswith("user"):
                continue  # lost+found
            number = int(user.split("@")[0][len("user"):])
            if number % NODES != index:
                wrong += len(os.listdir(os.path.join(mail, user, "Maildir", "new")))
    return wrong


def deliver(front, connections, messages, size):
    cmd = ["smtp-source", "-L", "-s", str(connections), "-m", str(messages), "-l", str(size),
           "-f", "sender@example.org", "-M", "client.example.org", "-N", "-t", "user@example.com",
           "unix:" + os.path.join(front, "run", "lmtp")]
    started = time.monotonic()
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(f"smtp-source failed: {result.stderr.strip()[-500:]}")
    return time.monotonic() - started


def clear_mail(base):
    """Each node's mail directory on a new filesystem, so both measurements start from the
    same disk state (see compare_dovecot.fresh_mail_filesystem)."""
    for index in range(NODES):
        common.fresh_mail_filesystem(os.path.join(base, f"node{index}"), MAIL_ID, MAIL_ID)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--homing", required=True)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    base = tempfile.mkdtemp(prefix="homing-scale-out.")
    os.chmod(base, 0o755)
    cluster = common.Cluster(base)
    procs = []
    try:
        cluster.psql(
            "CREATE TABLE users (userid text PRIMARY KEY, uid int NOT NULL, gid int NOT NULL, node int NOT NULL);\n"
            f"INSERT INTO users SELECT 'user' || i || '@example.com', {MAIL_ID}, {MAIL_ID}, mod(i, {NODES}) "
            f"FROM generate_series(0, {USERS - 1}) AS i;\n")
        ports = [common.free_port() for _ in range(NODES)]

        # Local: node 0 alone, every user stored there (its userdb puts all homes on node 0).
        local_node, local_conf = write_node(base, 0, cluster.port, ports, proxy=False)
        with open(local_conf) as f:
            text = f.read()
        local_sql = os.path.join(local_node, "dovecot-sql.conf.ext")
        with open(local_sql) as f:
            sql_text = f.read()
        with open(local_sql, "w") as f:
            f.write(sql_text.replace("/node' || node || '/mail/'", "/node0/mail/'"))
        clear_mail(base)
        proc = start(local_node, local_conf, args.homing)
        procs.append(proc)
        before = common.cpu_seconds(proc.pid)
        elapsed = deliver(local_node, args.connections, args.messages, args.size)
        local_cpu = (common.cpu_seconds(proc.pid) - before) / args.messages
        common.stop(proc)
        procs.remove(proc)
        if count(local_node) != args.messages:
            raise RuntimeError(f"local: {count(local_node)} of {args.messages} stored; see {local_node}/server.log")
        print(f"local delivery on one node: {args.messages / elapsed:8.0f} msgs/s, {local_cpu * 1e6:8.0f} µs CPU per message")

        # Front: three nodes, node 0 receiving everything.
        with open(local_sql, "w") as f:
            f.write(sql_text)
        nodes = [write_node(base, i, cluster.port, ports, proxy=True) for i in range(NODES)]
        clear_mail(base)
        for node, conf in reversed(nodes):
            procs.append(start(node, conf, args.homing))
        front = procs[-1]
        before = common.cpu_seconds(front.pid)
        elapsed = deliver(nodes[0][0], args.connections, args.messages, args.size)
        front_cpu = (common.cpu_seconds(front.pid) - before) / args.messages
        stored = sum(count(node) for node, _ in nodes)
        wrong = misplaced(base)
        local_share = sum(1 for n in range(args.messages) if (n % USERS) % NODES == 0) / args.messages
        relay_cpu = (front_cpu - local_share * local_cpu) / (1 - local_share)
        print(f"front of three nodes:       {args.messages / elapsed:8.0f} msgs/s, {front_cpu * 1e6:8.0f} µs CPU per message "
              f"({local_share:.0%} local)")
        print(f"front CPU per relayed message: {relay_cpu * 1e6:.0f} µs = {relay_cpu / local_cpu:.2f} of a local delivery "
              f"(goal: at most 0.33)")
        print(f"stored: {stored} of {args.messages}, on the wrong node: {wrong}")
        if stored != args.messages or wrong:
            raise RuntimeError(f"messages lost or misplaced; see {base}/node*/server.log")
    finally:
        for proc in procs:
            common.stop(proc)
        cluster.stop()
        for index in range(NODES):
            common.release_mail_filesystem(os.path.join(base, f"node{index}"))
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
