#!/usr/bin/env python3
"""LMTP load generator for Homing's benchmarks: bounded in count and time, loopback only.

Sends COUNT messages of SIZE bytes over CONNECTIONS parallel connections (one transaction
per message, RECIPIENTS recipients each) and prints throughput and latency percentiles.
"""
import argparse, socket, threading, time

def reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise RuntimeError("connection closed")
        lines.append(line.decode().rstrip("\r\n"))
        if len(line) < 4 or line[3:4] != b"-":
            return lines

def worker(args, count, latencies, errors, deadline):
    if args.socket:
        s = socket.socket(socket.AF_UNIX); s.connect(args.socket)
    else:
        s = socket.create_connection(("127.0.0.1", args.port))
    f = s.makefile("rb")
    reply(f)
    s.sendall(b"LHLO bench\r\n"); reply(f)
    line = (b"x" * 998) + b"\r\n"
    body = b"Subject: bench\r\n\r\n" + line * max(1, args.size // 1000)
    for i in range(count):
        if time.time() > deadline:
            break
        t0 = time.time()
        cmds = b"MAIL FROM:<bench@example.org>\r\n" + b"".join(
            b"RCPT TO:<%s>\r\n" % r.encode() for r in args.rcpt[: args.recipients]) + b"DATA\r\n"
        s.sendall(cmds)
        for _ in range(1 + args.recipients + 1):
            r = reply(f)
        if not r[0].startswith("354"):
            errors.append(r); break
        s.sendall(body + b".\r\n")
        for _ in range(args.recipients):
            r = reply(f)
            if not r[0].startswith("250"):
                errors.append(r)
        latencies.append(time.time() - t0)
    s.sendall(b"QUIT\r\n")
    s.close()

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=2424)
    p.add_argument("--socket")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--size", type=int, default=4000)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--recipients", type=int, default=1)
    p.add_argument("--rcpt", nargs="+", default=["alice@example.com", "bob@example.com", "carol@example.org"])
    p.add_argument("--max-seconds", type=float, default=120)
    args = p.parse_args()
    latencies, errors, threads = [], [], []
    deadline = time.time() + args.max_seconds
    per = args.count // args.connections
    start = time.time()
    for _ in range(args.connections):
        t = threading.Thread(target=worker, args=(args, per, latencies, errors, deadline)); t.start(); threads.append(t)
    for t in threads: t.join()
    elapsed = time.time() - start
    latencies.sort()
    n = len(latencies)
    pct = lambda q: latencies[min(n - 1, int(q * n))] * 1000 if n else 0
    print(f"messages={n} recipients_each={args.recipients} size={args.size} connections={args.connections}")
    print(f"elapsed={elapsed:.2f}s rate={n / elapsed:.1f} msg/s throughput={n * args.size / elapsed / 1e6:.2f} MB/s")
    print(f"latency_ms p50={pct(0.5):.1f} p90={pct(0.9):.1f} p99={pct(0.99):.1f} errors={len(errors)}")
    if errors: print("first error:", errors[0])

if __name__ == "__main__":
    main()
