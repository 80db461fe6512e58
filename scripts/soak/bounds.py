#!/usr/bin/env python3
"""The soak's samples: a line per round as it ends, and at the end the
growth from the last warm-up round's sample to the last one, held to the
bounds below. Exit 1 with one line naming the metric past its bound.

Every sample is taken at the same point of a round (load paused, queue
drained, agents idle, settled), so two samples differ only by what the
rounds between them left behind. A line of SAMPLES is
  ROUND ELAPSED_S NAME STARTS TELEMETRY_EVENTS KILLS ALIGNED VMRSS_KB FDS
  STORE_FDS DELETED_FDS THREADS
ALIGNED: 1 if the round ended right after RocksDB flushed its memtables
(its WAL had reached max_total_wal_size); STORE_FDS: files in the
process's own store (RocksDB's, the spool's), not counted in FDS.

usage: bounds.py --trend-line SAMPLES ROUND | --check SAMPLES WARMUP_ROUNDS
"""
import sys

# The bounds (docs/performance.md, Soak, gives the measurements):
# - VmRSS may grow by max(RSS_SLACK_KB, RSS_SLACK_PCT of the baseline):
#   the allocator settling and what bounded caches still take in.
# - The scheduler keeps every run in memory for good (its 256-byte
#   record, strings, idempotency key; 455 bytes per run measured on a
#   restart with 100,000 ended runs), so its bound also grows by
#   RUN_BYTES per run created after the baseline.
# - Its memtables fill up to about 34 MB between two flushes, and the
#   allocator keeps that memory once it has held it. When both samples
#   were taken right after a flush, after a warm-up of two flushes, this
#   is in both; otherwise the bound allows MEMTABLE_KB more.
# - Open fds (besides the store's) and threads come back to the
#   baseline's count within FD_SLACK / THREAD_SLACK. Churned agents
#   reconnect every round: a socket kept per reconnect would exceed it.
# - A store holds at most RocksDB's max_open_files (512) tables and a few
#   more files open, and no file deleted while open.
SCHED_RSS_SLACK_KB = 8192
AGENT_RSS_SLACK_KB = 2048
RSS_SLACK_PCT = 20
RUN_BYTES = 1024
MEMTABLE_KB = 40 * 1024
FD_SLACK = 2
THREAD_SLACK = 2
STORE_FDS_MAX = 512 + 16


def load(path):
    rows = []
    for line in open(path):
        f = line.split()
        rows.append({"round": int(f[0]), "t": int(f[1]), "name": f[2],
                     "starts": int(f[3]), "events": f[4], "kills": int(f[5]),
                     "aligned": f[6] == "1", "rss": int(f[7]), "fds": int(f[8]),
                     "store": int(f[9]), "deleted": int(f[10]),
                     "threads": int(f[11])})
    return rows


def trend_line(rows, rnd):
    rs = [r for r in rows if r["round"] == rnd]
    s = rs[0]
    parts = ["soak: round %d (%d s%s): %d starts, %s telemetry events, %d agent kills"
             % (rnd, s["t"], ", after a flush" if s["aligned"] else "", s["starts"],
                s["events"], s["kills"])]
    for r in rs:
        parts.append("%s %.2f MB, %d+%d fds, %d threads"
                     % (r["name"], r["rss"] / 1024, r["fds"], r["store"], r["threads"]))
    print(" | ".join(parts))


def rss_bound(b, e, runs):
    """The kB of VmRSS growth allowed from sample b to sample e."""
    if b["name"] != "scheduler":
        return max(AGENT_RSS_SLACK_KB, b["rss"] * RSS_SLACK_PCT // 100)
    bound = max(SCHED_RSS_SLACK_KB, b["rss"] * RSS_SLACK_PCT // 100)
    bound += runs * RUN_BYTES // 1024
    if not (b["aligned"] and e["aligned"]):
        bound += MEMTABLE_KB
    return bound


def check_one(b, e, runs, failed):
    """Prints b -> e's rows of the table; appends what is out of bounds."""
    name = b["name"]
    for label, key, bound in (("VmRSS kB", "rss", rss_bound(b, e, runs)),
                              ("fds", "fds", FD_SLACK),
                              ("threads", "threads", THREAD_SLACK)):
        grow = e[key] - b[key]
        print("  %-10s %-10s %9d %9d %+9d %10s"
              % (name, label, b[key], e[key], grow, "<= %+d" % bound))
        if grow > bound:
            failed.append("%s %s grew by %d (%d -> %d), past its bound of %d"
                          % (name, label, grow, b[key], e[key], bound))
    print("  %-10s %-10s %9d %9d %+9d %10s"
          % (name, "store fds", b["store"], e["store"], e["store"] - b["store"],
             "<= %d" % STORE_FDS_MAX))
    if e["store"] > STORE_FDS_MAX:
        failed.append("%s holds %d store files open, past %d"
                      % (name, e["store"], STORE_FDS_MAX))
    if e["deleted"]:
        failed.append("%s holds %d deleted files open" % (name, e["deleted"]))


def check(rows, warmup):
    last = max(r["round"] for r in rows)
    base = {r["name"]: r for r in rows if r["round"] == warmup}
    end = {r["name"]: r for r in rows if r["round"] == last}
    if last <= warmup or "scheduler" not in base:
        print("soak: FAIL: no sample after the warm-up's %d rounds" % warmup)
        return 1
    b, e = base["scheduler"], end["scheduler"]
    runs = e["starts"] - b["starts"]
    print("soak: from the end of the warm-up (round %d, %d s) to the end (round %d, "
          "%d s): %d runs created, %d agent kills, samples %s"
          % (warmup, b["t"], last, e["t"], runs, e["kills"] - b["kills"],
             "both right after a flush" if b["aligned"] and e["aligned"]
             else "not both right after a flush"))
    print("  %-10s %-10s %9s %9s %9s %10s"
          % ("process", "metric", "warm-up", "end", "growth", "bound"))
    failed = []
    for name in base:
        check_one(base[name], end[name], runs, failed)
    if failed:
        print("soak: FAIL: " + failed[0])
        return 1
    print("soak: all within bounds")
    return 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--trend-line":
        trend_line(load(sys.argv[2]), int(sys.argv[3]))
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "--check":
        return check(load(sys.argv[2]), int(sys.argv[3]))
    sys.exit(__doc__.strip().splitlines()[-1])


sys.exit(main())
