#!/usr/bin/env python3
"""Jepsen-style check after a chaos run.

Inputs: the submitter's acknowledged starts, the agents' journal of
acknowledged completions, and the scheduler's own view ("run show" for
each run, pipelined over the admin socket).
  lost        an acknowledged start with no run, a run that never ended,
              or an acknowledged completion the store does not reflect
  duplicated  one idempotency key acknowledged with two run ids, or a run
              whose completion was acknowledged twice / recorded twice
  recovered   starts answered only after a resend (the scheduler died
              first), and runs that lost a lease and ran again
A run that acknowledged too little proves nothing, so it fails too: each
cycle must have acknowledged at least --min-per-cycle starts and
completions (the cycles file holds "CYCLE STARTS COMPLETIONS", the
running totals when that cycle's kill came), and the whole run at least
that many per cycle.

usage: check.py ACKED_FILE JOURNAL SOCKET CYCLES [--cycles-file FILE]
                [--min-per-cycle N] [--what TEXT]
"""
import argparse
import json
import socket
import sys

ap = argparse.ArgumentParser()
ap.add_argument("acked_path")
ap.add_argument("journal_path")
ap.add_argument("sock_path")
ap.add_argument("cycles", type=int)
ap.add_argument("--cycles-file")
ap.add_argument("--min-per-cycle", type=int, default=1)
ap.add_argument("--what", default="kill -9")
args = ap.parse_args()
acked_path, journal_path, sock_path = (args.acked_path, args.journal_path,
                                       args.sock_path)
cycles, least = args.cycles, args.min_per_cycle


def show_all(ids):
    """run show for every id, pipelined in chunks; {id: run or None}."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    f = s.makefile("rb")
    out = {}
    ids = sorted(ids)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        s.sendall("".join(f"run show {r}\n" for r in chunk).encode())
        for r in chunk:
            reply = json.loads(f.readline())
            out[r] = reply["run"] if reply.get("ok") else None
    s.close()
    return out

acked = {}
dup = []
resent = 0
for line in open(acked_path):
    key, run, resends = line.split()
    run = int(run)
    if key in acked and acked[key] != run:
        dup.append(f"key {key} acknowledged as runs {acked[key]} and {run}")
    acked[key] = run
    resent += int(resends) > 0

done = {}
unknown = set()
for line in open(journal_path):
    kind, run, epoch = line.split()[:3]
    run = int(run)
    if kind == "done":
        done[run] = done.get(run, 0) + 1
    elif kind == "unknown":
        unknown.add(run)
for run, n in done.items():
    if n > 1:
        dup.append(f"run {run}: completion acknowledged {n} times")

runs = show_all(set(acked.values()) | set(done))
terminal = {"succeeded", "failed", "cancelled", "timed_out"}
lost = []
recovered = 0
for key, run in acked.items():
    r = runs.get(run)
    if r is None:
        lost.append(f"{key}: acknowledged run {run} does not exist")
        continue
    if r["state"] not in terminal:
        lost.append(f"run {run} is still {r['state']}")
    if r.get("completions", 1) != 1:
        dup.append(f"run {run} recorded complete {r.get('completions')} times")
    if r["attempt"] > 1:
        recovered += 1
for run in done:
    r = runs.get(run)
    if r is None or r["state"] not in terminal:
        lost.append(f"run {run}: acknowledged completion not recorded")

# Too little acknowledged: in a cycle, or in the whole run.
thin = []
if args.cycles_file:
    prev = (0, 0)
    for line in open(args.cycles_file):
        n, s, d = (int(x) for x in line.split())
        if s - prev[0] < least or d - prev[1] < least:
            thin.append(f"cycle {n}: {s - prev[0]} starts and "
                        f"{d - prev[1]} completions acknowledged "
                        f"(at least {least} of each needed)")
        prev = (s, d)
    if sum(1 for _ in open(args.cycles_file)) != cycles:
        thin.append(f"the cycles file does not list {cycles} cycles")
total_done = sum(done.values())
if len(acked) < least * cycles or total_done < least * cycles:
    thin.append(f"{len(acked)} starts and {total_done} completions "
                f"acknowledged in {cycles} cycles (at least {least} of each "
                f"per cycle needed)")

for what in lost[:10] + dup[:10] + thin[:10]:
    print("  " + what)
print(f"chaos: {cycles} {args.what} cycles, {len(acked)} acknowledged starts, "
      f"{sum(done.values())} acknowledged completions ({len(unknown)} resent "
      f"after a restart): lost {len(lost)}, duplicated {len(dup)}, "
      f"recovered {resent + recovered} ({resent} starts answered after a "
      f"resend, {recovered} runs re-run after a lost lease)"
      f"{f'; {len(thin)} checks of too little acknowledged failed' if thin else ''}")
sys.exit(1 if lost or dup or thin else 0)
