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

usage: check.py ACKED_FILE JOURNAL SOCKET CYCLES [WHAT]
(WHAT: what CYCLES counts, "kill -9 cycles" unless given)
"""
import json
import socket
import sys

acked_path, journal_path, sock_path, cycles = sys.argv[1:5]
what_cycles = sys.argv[5] if len(sys.argv) > 5 else "kill -9 cycles"


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

for what in lost[:10] + dup[:10]:
    print("  " + what)
print(f"chaos: {cycles} {what_cycles}, {len(acked)} acknowledged starts, "
      f"{sum(done.values())} acknowledged completions ({len(unknown)} resent "
      f"after a restart): lost {len(lost)}, duplicated {len(dup)}, "
      f"recovered {resent + recovered} ({resent} starts answered after a "
      f"resend, {recovered} runs re-run after a lost lease)")
sys.exit(1 if lost or dup else 0)
