#!/usr/bin/env python3
"""Homing against Dovecot's LMTP on one dovecot.conf; run through bench/compare-dovecot.sh.

Sets up a PostgreSQL cluster with 1,000 users and one dovecot.conf in a temporary directory,
then for each load runs Dovecot (`dovecot -F -c`) and `homing serve -c` on that file in turn,
`smtp-source -L` being the client over the unix socket, and prints a table.

Measured per run, for the server's own processes only (Dovecot: the master and every process
below it; Homing: its one process):
- msgs/s: messages accepted / wall time of the smtp-source run;
- peak RSS: the largest sum of VmRSS over the server's processes, sampled every 50 ms;
- CPU per message: user+system time the server used during the run (exited children
  included, through the master's cutime/cstime) / messages.
"""
import argparse
import glob
import os
import pwd
import grp
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")

# name: (connections, messages, size in bytes, one user?)
LOADS = {
    "1conn": (1, 500, 4096, False),
    "8conn": (8, 2000, 4096, False),
    "32conn": (32, 4000, 4096, False),
    "10mb": (4, 50, 10 * 1024 * 1024, False),
    "oneuser": (8, 400, 4096, True),
}
LABELS = {
    "1conn": "1 connection, {m} x 4 KB, many users",
    "8conn": "8 connections, {m} x 4 KB, many users",
    "32conn": "32 connections, {m} x 4 KB, many users",
    "10mb": "4 connections, {m} x 10 MB",
    "oneuser": "8 connections, {m} x 4 KB, one user",
}
USERS = 1000


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Cluster:
    """A throwaway PostgreSQL cluster owned by the postgres user, on loopback."""

    def __init__(self, base):
        bindir = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
        self.bindir = bindir
        self.data = os.path.join(base, "pg")
        self.port = free_port()
        os.makedirs(self.data)
        shutil.chown(self.data, "postgres", "postgres")
        os.chmod(base, 0o755)
        self.as_pg([f"{bindir}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                   stdout=subprocess.DEVNULL)
        self.as_pg([f"{bindir}/pg_ctl", "-D", self.data, "-w", "-l", os.path.join(self.data, "log"), "-o",
                    f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=on", "start"],
                   stdout=subprocess.DEVNULL)

    def as_pg(self, cmd, **kw):
        return run(["runuser", "-u", "postgres", "--"] + cmd, **kw)

    def psql(self, sql):
        run(["psql", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
             "-v", "ON_ERROR_STOP=1"], input=sql.encode(), stdout=subprocess.DEVNULL)

    def stop(self):
        self.as_pg([f"{self.bindir}/pg_ctl", "-D", self.data, "-m", "immediate", "stop"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def write_config(base, port, uid, gid):
    """One dovecot.conf both servers read."""
    sql = os.path.join(base, "dovecot-sql.conf.ext")
    with open(sql, "w") as f:
        # smtp-source -N puts a sequence number in front of the local part (1user@, 2user@...):
        # message n goes to user (n mod 1000), so the load spreads over the 1,000 users.
        f.write(f"""driver = pgsql
connect = host=127.0.0.1 port={port} dbname=postgres user=postgres
user_query = SELECT home, uid, gid FROM users WHERE userid = 'user' || mod(coalesce(nullif(substring('%n' from '^[0-9]+'), ''), '0')::int, {USERS}) || '@example.com'
iterate_query = SELECT userid AS user FROM users
""")
    sieve = os.path.join(base, "default.sieve")
    with open(sieve, "w") as f:
        f.write('require ["fileinto"];\n'
                'if header :contains "subject" ["[spam]", "viagra"] { fileinto "Junk"; stop; }\n'
                'if address :domain :is "from" "lists.example.net" { fileinto "Lists"; stop; }\n')
    # Precompiled, as an administrator does for a global script (sievec): otherwise Dovecot,
    # running as the user, cannot save the binary and compiles the script for every message.
    if shutil.which("sievec"):
        run(["sievec", sieve], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conf = os.path.join(base, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(f"""protocols = lmtp
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/server.log
ssl = no
hostname = mx.example.com
postmaster_address = postmaster@example.com
mail_location = maildir:~/Maildir
mail_fsync = optimized
mail_temp_dir = {base}/tmp
first_valid_uid = 1
mail_plugins = quota
protocol lmtp {{
  mail_plugins = $mail_plugins sieve
}}
plugin {{
  quota = maildir:User quota
  quota_rule = *:storage=10G
  sieve = file:~/sieve;active=~/.dovecot.sieve
  sieve_default = {sieve}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
passdb {{
  driver = static
  args = nopassword=y
}}
userdb {{
  driver = sql
  args = {sql}
}}
""")
    return conf


def proc_tree(root):
    """The pids of root and every process below it."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except OSError:
            continue
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def cpu_seconds(root):
    """utime+stime (+ reaped children's) of root and its live descendants."""
    total = 0
    for pid in proc_tree(root):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])
        except OSError:
            continue
    return total / CLK_TCK


def rss_kb(root):
    total = 0
    for pid in proc_tree(root):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def wait_for_socket(path, proc, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no listener at {path}")


def start(server, conf, base, homing):
    socket_path = os.path.join(base, "run", "lmtp")
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    if server == "dovecot":
        cmd = ["dovecot", "-F", "-c", conf]
    else:
        cmd = [homing, "serve", "-c", conf]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(base, f"{server}.err"), "a"))
    wait_for_socket(socket_path, proc)
    return proc


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def smtp_source(base, connections, messages, size, one_user):
    cmd = ["smtp-source", "-L", "-s", str(connections), "-m", str(messages), "-l", str(size),
           "-f", "sender@example.org", "-M", "client.example.org"]
    cmd += ["-t", "user1@example.com"] if one_user else ["-N", "-t", "user@example.com"]
    cmd.append("unix:" + os.path.join(base, "run", "lmtp"))
    return cmd


def fresh_mail_filesystem(base, uid, gid):
    """`base/mail` as a new ext4 filesystem (a sparse image on a loop device), so that every
    run starts from the same disk state: on a filesystem where earlier runs created and
    deleted many thousands of files, creating one costs more each round (ext4's inode
    allocator scans past recently deleted inodes), which made later rounds slower for
    whichever server ran then. Falls back to an emptied directory where loop devices are not
    available (then rounds drift)."""
    mail = os.path.join(base, "mail")
    image = os.path.join(base, "mail.img")
    if os.path.ismount(mail):
        subprocess.run(["umount", mail], check=True)
    shutil.rmtree(mail, ignore_errors=True)
    os.makedirs(mail)
    try:
        with open(image, "wb") as f:
            f.truncate(4 << 30)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", image],
                       check=True, capture_output=True)
        subprocess.run(["mount", "-o", "loop", image, mail], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as error:
        global WARNED_NO_LOOP
        if not WARNED_NO_LOOP:
            print(f"note: no fresh filesystem per run ({error}); using a directory", file=sys.stderr)
            WARNED_NO_LOOP = True
    os.chown(mail, uid, gid)
    return mail


def release_mail_filesystem(base):
    mail = os.path.join(base, "mail")
    if os.path.ismount(mail):
        subprocess.run(["umount", mail])


WARNED_NO_LOOP = False


def one_run(server, load, counts, base, conf, homing, uid, gid, cold=False):
    """One timed load on a fresh mail directory. Unless `cold`, an untimed warm-up first
    delivers one message to each user the load reaches, so that the timed load stores into
    maildirs that exist, as on a server in service (a first delivery creates the maildir and,
    for Dovecot, its index files)."""
    connections, messages, size, one_user = counts
    mail = fresh_mail_filesystem(base, uid, gid)
    proc = start(server, conf, base, homing)
    warmed = 0
    try:
        if not cold:
            warmed = 1 if one_user else min(USERS, messages)
            warm = subprocess.run(smtp_source(base, min(8, connections), warmed, 1024, one_user),
                                  capture_output=True, text=True, timeout=3600)
            if warm.returncode != 0:
                raise RuntimeError(f"{server} {load}: warm-up failed: {warm.stderr.strip()[-500:]}")
        peak = [rss_kb(proc.pid)]
        done = threading.Event()

        def sample():
            while not done.wait(0.05):
                peak[0] = max(peak[0], rss_kb(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        cpu_before = cpu_seconds(proc.pid)
        sampler.start()
        cmd = smtp_source(base, connections, messages, size, one_user)
        started = time.monotonic()
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(proc.pid) - cpu_before
        done.set()
        sampler.join()
    finally:
        stop(proc)
    if result.returncode != 0:
        raise RuntimeError(f"{server} {load}: smtp-source failed: {result.stderr.strip()[-500:]}")
    stored = sum(len(os.listdir(d)) for d in glob.glob(os.path.join(mail, "*", "Maildir", "new"))
                 + glob.glob(os.path.join(mail, "*", "Maildir", ".*", "new")))
    if stored != messages + warmed:
        raise RuntimeError(f"{server} {load}: {stored} messages stored of {messages + warmed}; see {base}/server.log")
    return {"rate": messages / elapsed, "rss": peak[0] / 1024, "cpu_us": cpu / messages * 1e6}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--homing", required=True)
    parser.add_argument("--quick", action="store_true", help="a tenth of the counts, one round")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--loads", default=",".join(LOADS))
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--cold", action="store_true",
                        help="no warm-up: the timed load also creates every user's maildir")
    options = parser.parse_args()
    rounds = options.rounds or (1 if options.quick else 3)
    loads = [name for name in options.loads.split(",") if name]
    for name in loads:
        if name not in LOADS:
            sys.exit(f"unknown load {name}; known: {', '.join(LOADS)}")
    base = tempfile.mkdtemp(prefix="homing-vs-dovecot.")
    os.chmod(base, 0o755)
    for sub in ["run", "state", "tmp"]:
        os.makedirs(os.path.join(base, sub))
    os.chmod(os.path.join(base, "tmp"), 0o1777)
    uid, gid = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    cluster = Cluster(base)
    try:
        cluster.psql("CREATE TABLE users (userid text PRIMARY KEY, home text, uid int, gid int);\n"
                     + f"INSERT INTO users SELECT 'user' || n || '@example.com', '{base}/mail/user' || n, {uid}, {gid} "
                     + f"FROM generate_series(0, {USERS - 1}) AS n;\n")
        conf = write_config(base, cluster.port, uid, gid)
        results = {}
        for name in loads:
            connections, messages, size, one_user = LOADS[name]
            if options.quick:
                messages = max(connections, messages // 10)
            counts = (connections, messages, size, one_user)
            runs = {"dovecot": [], "homing": []}
            for round_number in range(rounds):
                for server in ["dovecot", "homing"]:
                    runs[server].append(one_run(server, name, counts, base, conf, options.homing, uid, gid,
                                                   cold=options.cold))
                    r = runs[server][-1]
                    print(f"  {name} round {round_number + 1} {server}: {r['rate']:.1f} msgs/s, "
                          f"{r['rss']:.0f} MB, {r['cpu_us']:.0f} us/msg", file=sys.stderr, flush=True)
            ratios = [h["rate"] / d["rate"] for d, h in zip(runs["dovecot"], runs["homing"])]
            results[name] = (messages, runs, statistics.median(ratios))
        print(f"\n{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {rounds} round(s)"
              f"{', quick mode' if options.quick else ''}, medians; quota + Sieve on, PostgreSQL userdb, "
              f"{USERS} users, mail_fsync = optimized, "
              f"{'cold (first deliveries create the maildirs)' if options.cold else 'maildirs created by an untimed warm-up'}\n")
        print("| load | Dovecot msgs/s, peak RSS, CPU per msg | Homing msgs/s, peak RSS, CPU per msg | Homing / Dovecot |")
        print("|---|---|---|---|")

        def cell(rs):
            rate = statistics.median(r["rate"] for r in rs)
            rss = statistics.median(r["rss"] for r in rs)
            cpu = statistics.median(r["cpu_us"] for r in rs)
            return f"{rate:,.1f}, {rss:.0f} MB, {cpu:,.0f} µs"

        for name in loads:
            messages, runs, ratio = results[name]
            print(f"| {LABELS[name].format(m=f'{messages:,}')} | {cell(runs['dovecot'])} | {cell(runs['homing'])} "
                  f"| {ratio:.2f}x |")
    finally:
        cluster.stop()
        release_mail_filesystem(base)
        if options.keep:
            print(f"kept {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
