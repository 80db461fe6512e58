#!/usr/bin/env python3
"""The soak's stream of run starts and cancels, over one admin connection.

Starts JOB, JOB, ... in turn (a job named twice gets twice the share), one
every PACE_MS, with idempotency keys PREFIX-1, PREFIX-2, ...; a job given
as JOB@cancel is cancelled CANCEL_S seconds after its start was answered.
A start counts as acknowledged only when its reply arrived; after a failure
(busy, a quota, a lost connection) the same key is sent again. Appends
"KEY RUN RESENDS" per acknowledged start to DIR/PREFIX.acked (the format
scripts/chaos/check.py reads) and "RUN ok|ended" per cancel to
DIR/PREFIX.cancels.

While DIR/pause exists it starts nothing, sends the cancels still due, then
writes what DIR/pause holds (the soak's round) to DIR/PREFIX.paused: the
soak waits for that before it measures. Stops when DIR/stop exists.

usage: load.py SOCKET DIR PREFIX PACE_MS JOB[@cancel]...
"""
import json
import os
import socket
import sys
import time

CANCEL_S = 2.0


class Admin:
    """One admin connection, opened again after a failure."""

    def __init__(self, path, stop):
        self.path, self.stop, self.s, self.f = path, stop, None, None

    def ask(self, line):
        """The reply to LINE as a dict, or None when the connection failed
        (the caller sends the same line again)."""
        try:
            if self.s is None:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.settimeout(30)
                self.s.connect(self.path)
                self.f = self.s.makefile("rb")
            self.s.sendall((line + "\n").encode())
            reply = self.f.readline()
            if not reply:
                raise OSError("connection closed")
            return json.loads(reply)
        except (OSError, ValueError):
            if self.s is not None:
                self.s.close()
            self.s = None
            time.sleep(0.05)
            return None


def flag(d, name):
    return os.path.exists(os.path.join(d, name))


def read(path):
    """The contents of PATH, or None when it does not exist."""
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__.strip().splitlines()[-1])
    sock, d, prefix, pace = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) / 1000
    jobs = [(j.split("@")[0], j.endswith("@cancel")) for j in sys.argv[5:]]
    admin = Admin(sock, os.path.join(d, "stop"))
    acked = open(os.path.join(d, prefix + ".acked"), "a")
    cancels = open(os.path.join(d, prefix + ".cancels"), "a")
    paused = os.path.join(d, prefix + ".paused")
    due = []  # (time, run) of cancels to send
    key, nxt = 0, time.monotonic()
    while not flag(d, "stop"):
        now = time.monotonic()
        while due and due[0][0] <= now:
            reply = admin.ask(f"run cancel {due[0][1]}")
            if reply is None:
                continue
            what = "ok" if reply.get("ok") else reply.get("error", "?")
            cancels.write(f"{due[0][1]} {'ended' if what == 'conflict' else what}\n")
            cancels.flush()
            due.pop(0)
        gen = read(os.path.join(d, "pause"))
        if gen is not None:
            if not due and read(paused) != gen:
                with open(paused + ".tmp", "w") as f:
                    f.write(gen)
                os.rename(paused + ".tmp", paused)
            time.sleep(0.05)
            nxt = time.monotonic()
            continue
        if now < nxt:
            time.sleep(min(nxt - now, 0.05))
            continue
        job, cancel = jobs[key % len(jobs)]
        key += 1
        resends = 0
        while not flag(d, "stop"):
            reply = admin.ask(f"run start {job} --idempotency-key {prefix}-{key}")
            if reply is not None and reply.get("ok"):
                acked.write(f"{prefix}-{key} {reply['run']} {resends}\n")
                acked.flush()
                if cancel:
                    due.append((time.monotonic() + CANCEL_S, reply["run"]))
                break
            if reply is not None:
                if reply.get("error") not in ("busy", "quota_exceeded"):
                    sys.exit(f"load.py: run start {job}: {reply.get('message')}")
                time.sleep(0.2)  # the same key again
            resends += 1
        nxt = max(nxt + pace, time.monotonic() - 1)  # no burst after a stall


main()
