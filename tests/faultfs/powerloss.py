#!/usr/bin/env python3
"""Simulates a power loss on a directory watched by faultfs.so.

Run it after the process that wrote under DIR (with LD_PRELOAD=faultfs.so,
FAULTFS_DIR=DIR, FAULTFS_LOG=JOURNAL) was killed with SIGKILL and before
anything else touches DIR. It undoes, newest first, every change the
journal shows was not made durable (tests/faultfs/faultfs.c states the
model): unsynced writes and size changes are rolled back to the bytes and
size of the file's last fsync, files created since their directory's last
fsync are removed, renames not yet made durable are turned back (and a
file they replaced comes back). What remains is what a disk would hold
after the power went out at the moment of the kill. The journal is then
emptied: everything now in DIR counts as durable.

--dump prints each journaled change first, oldest first, one a line:
"SEQ KIND PATH" (a rename: "SEQ R OLD -> NEW"), with "durable" or "lost".

usage: powerloss.py DIR JOURNAL [--keep-journal] [--quiet] [--dump]
"""
import os
import struct
import sys

HDR = struct.Struct("<IIII Q QQQ qq II")
MAGIC = 0x46465331


def read_journal(path):
    """Whole records, in the order written; a torn last one is dropped."""
    try:
        data = open(path, "rb").read()
    except FileNotFoundError:
        return [], 0
    recs, off = [], 0
    while off + HDR.size <= len(data):
        (magic, length, kind, plen, seq, dev, ino, dir_ino, a, b, mode,
         _pad) = HDR.unpack_from(data, off)
        if magic != MAGIC or length < HDR.size + plen:
            raise SystemExit(f"powerloss: {path}: bad record at byte {off}")
        if off + length > len(data):
            break  # torn by the kill: its change was never made
        body = data[off + HDR.size:off + length]
        recs.append({"kind": chr(kind), "seq": seq, "dev": dev, "ino": ino,
                     "dir": dir_ino, "a": a, "b": b, "mode": mode,
                     "path": body[:plen].decode(errors="surrogateescape"),
                     "payload": body[plen:]})
        off += length
    return recs, len(data) - off


def incarnations(recs):
    """Tags each record with the incarnation of its inode (a number can be
    reused once a file is gone) and returns the last one of each."""
    inc = {}
    for r in recs:
        key = (r["dev"], r["ino"])
        if r["kind"] == "C":
            inc[key] = inc.get(key, 0) + 1
        r["inc"] = inc.get(key, 0)
        if r["kind"] == "R" and r["b"]:
            r["binc"] = inc.get((r["dev"], r["b"]), 0)
        if r["kind"] in "CR":
            r["dinc"] = inc.get((r["dev"], r["dir"]), 0)
        if r["kind"] == "R":
            r["ainc"] = inc.get((r["dev"], r["a"]), 0)
    return inc


def durable_marks(recs):
    """Marks each record durable or not by the fsyncs that follow it."""
    last_sync = {}
    for r in recs:
        if r["kind"] == "S":
            key = (r["dev"], r["ino"], r["inc"])
            last_sync[key] = max(last_sync.get(key, 0), r["seq"])
    for r in recs:
        k = r["kind"]
        if k in "WT":
            r["durable"] = last_sync.get(
                (r["dev"], r["ino"], r["inc"]), 0) > r["seq"]
        elif k == "C":
            r["durable"] = last_sync.get(
                (r["dev"], r["dir"], r["dinc"]), 0) > r["seq"]
        elif k == "R":
            new_ok = last_sync.get((r["dev"], r["dir"], r["dinc"]), 0) > r["seq"]
            old_ok = r["a"] == r["dir"] or last_sync.get(
                (r["dev"], r["a"], r["ainc"]), 0) > r["seq"]
            r["durable"] = new_ok and old_ok
        else:
            r["durable"] = True


def live_files(top, inc):
    """(dev, ino) -> [path, incarnation] of every file under top now."""
    live = {}
    for d, _dirs, files in os.walk(top):
        for name in files:
            p = os.path.join(d, name)
            st = os.lstat(p)
            key = (st.st_dev, st.st_ino)
            live[key] = [p, inc.get(key, 0)]
    return live


def undo(recs, live, stats):
    for r in sorted(recs, key=lambda r: r["seq"], reverse=True):
        if r["durable"]:
            continue
        key = (r["dev"], r["ino"])
        cur = live.get(key)
        if not cur or cur[1] != r["inc"]:
            continue  # that file is gone (or its number is another's now)
        k, path = r["kind"], cur[0]
        if k == "W":
            with open(path, "r+b") as f:
                f.seek(r["a"])
                f.write(r["payload"])
                f.truncate(r["b"])
            stats["writes"] += 1
        elif k == "T":
            with open(path, "r+b") as f:
                if r["a"] < r["b"]:
                    f.seek(r["a"])
                    f.write(r["payload"])
                f.truncate(r["b"])
            stats["sizes"] += 1
        elif k == "C":
            os.unlink(path)
            del live[key]
            stats["creates"] += 1
        elif k == "R":
            old, new = r["path"].split("\0", 1)
            os.rename(path, old)
            cur[0] = old
            if r["b"]:
                fd = os.open(new, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                             r["mode"] or 0o600)
                os.write(fd, r["payload"])
                os.close(fd)
                st = os.lstat(new)
                # the replaced file's older records now apply to this one
                live[(r["dev"], r["b"])] = [new, r["binc"]]
                if (st.st_dev, st.st_ino) != (r["dev"], r["b"]):
                    live[(st.st_dev, st.st_ino)] = [new, -1]
            stats["renames"] += 1


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        raise SystemExit("usage: powerloss.py DIR JOURNAL [--keep-journal] "
                         "[--quiet] [--dump]")
    top, journal = args
    recs, torn = read_journal(journal)
    inc = incarnations(recs)
    durable_marks(recs)
    if "--dump" in sys.argv:
        for r in sorted(recs, key=lambda r: r["seq"]):
            path = r["path"].replace("\0", " -> ")
            print(f"{r['seq']} {r['kind']} {path} "
                  f"{'durable' if r['durable'] else 'lost'}")
    live = live_files(top, inc)
    stats = {"writes": 0, "sizes": 0, "creates": 0, "renames": 0}
    undo(recs, live, stats)
    if "--keep-journal" not in sys.argv:
        open(journal, "wb").close()
    if "--quiet" not in sys.argv:
        kinds = {k: sum(1 for r in recs if r["kind"] == k) for k in "WTSCRU"}
        print(f"power loss: journaled {kinds['W']} writes, {kinds['T']} size "
              f"changes, {kinds['S']} fsyncs, {kinds['C']} new files, "
              f"{kinds['R']} renames, {kinds['U']} unlinks; undone: "
              f"{stats['writes']} writes, {stats['sizes']} size changes, "
              f"{stats['creates']} new files, {stats['renames']} renames"
              f"{' (torn last record ignored)' if torn else ''}")


main()
