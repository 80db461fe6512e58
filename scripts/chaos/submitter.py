#!/usr/bin/env python3
"""Submits runs over the admin socket with idempotency keys chaos-1, -2, ...
until STOP_FILE exists. A run counts as acknowledged only when its reply
arrived; on any failure (scheduler killed, socket gone, busy) the same key is
sent again, so a start the scheduler committed but never answered comes back
with its original run id. Appends "KEY RUN_ID RESENDS" per acknowledged start
to ACKED_FILE.

usage: submitter.py SOCKET JOB ACKED_FILE STOP_FILE
"""
import json
import os
import socket
import sys
import time

sock_path, job, acked_path, stop_path = sys.argv[1:5]
PACE = 0.005  # about 150 starts/s: below what the agent fleet finishes


def connect():
    while not os.path.exists(stop_path):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect(sock_path)
            return s, s.makefile("rb")
        except OSError:
            time.sleep(0.05)
    return None, None


def main():
    s, f = connect()
    key = 0
    with open(acked_path, "a") as out:
        while not os.path.exists(stop_path):
            key += 1
            resends = 0
            while True:
                if os.path.exists(stop_path):
                    return
                try:
                    s.sendall(f"run start {job} --idempotency-key chaos-{key}\n".encode())
                    line = f.readline()
                    if not line:
                        raise OSError("connection closed")
                    reply = json.loads(line)
                    if reply.get("ok"):
                        out.write(f"chaos-{key} {reply['run']} {resends}\n")
                        out.flush()
                        time.sleep(PACE)
                        break
                    time.sleep(0.05)  # busy / shutting down: try again
                except (OSError, ValueError, AttributeError):
                    if s:
                        s.close()
                    s, f = connect()
                    if s is None:
                        return
                resends += 1


main()
