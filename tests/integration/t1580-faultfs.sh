#!/bin/bash
# The test tool itself: bin/faultfs.so and tests/faultfs/powerloss.py model
# a power loss the way the other tests rely on (what was fsynced stays,
# everything else is rolled back), and inject faults on demand.
. "$(dirname "$0")/lib.sh"

[ -x "$BIN/faultfs.so" ] || fail "bin/faultfs.so is missing (make tools)"
D=$T/d
mkdir -p "$D" "$T/outside"
cat >"$T/prog.py" <<'PY'
import errno, os, sys
d, out = sys.argv[1], sys.argv[2]
def write(name, data, sync=True, flags=os.O_WRONLY | os.O_CREAT):
    fd = os.open(f"{d}/{name}", flags, 0o644)
    os.write(fd, data)
    if sync:
        os.fsync(fd)
    os.close(fd)
def sync_dir():
    fd = os.open(d, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
# the durable starting point
for name, data in [("a", b"hello"), ("c", b"AAAAAAAA"), ("d", b"old"),
                   ("e", b"0123456789"), ("f", b"synced")]:
    write(name, data)
sync_dir()
fd = os.open(f"{d}/a", os.O_WRONLY | os.O_APPEND)     # an unsynced append
os.write(fd, b" world"); os.close(fd)
write("b", b"new file")                                 # its dir never synced
fd = os.open(f"{d}/c", os.O_RDWR)                       # an unsynced overwrite
os.pwrite(fd, b"BB", 2); os.close(fd)
write("d.tmp", b"replacement")                          # an unsynced rename
os.rename(f"{d}/d.tmp", f"{d}/d")
fd = os.open(f"{d}/e", os.O_RDWR)                       # an unsynced truncate
os.ftruncate(fd, 3); os.close(fd)
fd = os.open(f"{d}/f", os.O_RDWR)                       # a synced overwrite
os.pwrite(fd, b"SY", 0); os.fsync(fd); os.close(fd)
with open(f"{out}/outside", "wb") as f:                 # not under the dir
    f.write(b"kept")
PY
FAULTFS_DIR=$D FAULTFS_LOG=$T/journal LD_PRELOAD=$BIN/faultfs.so \
	python3 "$T/prog.py" "$D" "$T/outside" || fail "the program failed under the shim"
[ "$(cat "$D/a")" = "hello world" ] || fail "the shim changed what the program wrote"
python3 "$ROOT/tests/faultfs/powerloss.py" "$D" "$T/journal" >"$T/summary" ||
	fail "powerloss.py failed"
check() { # FILE EXPECTED
	[ "$(cat "$D/$1" 2>/dev/null || echo MISSING)" = "$2" ] ||
		fail "after the power loss $1 is '$(cat "$D/$1" 2>/dev/null || echo MISSING)', expected '$2'"
}
check a hello          # the append was not synced
check b MISSING        # created, fsynced, but its directory never was
check c AAAAAAAA       # the overwrite was not synced
check d old            # the rename was not made durable: the old file is back
check d.tmp MISSING    # ... and the file it renamed was never durable
check e 0123456789     # the truncate was not synced
check f SYnced         # a synced overwrite stays
[ "$(cat "$T/outside/outside")" = kept ] || fail "a file outside the dir was touched"
[ ! -s "$T/journal" ] || fail "the journal was not emptied"
grep -q "undone: 2 writes, 1 size changes, 2 new files, 1 renames" "$T/summary" ||
	fail "summary: $(cat "$T/summary")"

# Faults on demand: ENOSPC on writes, EIO on fsync, then none.
cat >"$T/faults.py" <<'PY'
import errno, os, sys
d, ctl = sys.argv[1], sys.argv[2]
def attempt(what):
    try:
        fd = os.open(f"{d}/g", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, b"x") if what == "write" else os.fsync(fd)
        finally:
            os.close(fd)
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
res = []
for mode in ["enospc write", "eio sync", ""]:
    with open(ctl, "w") as f:
        f.write(mode)
    res.append(f"{attempt('write')}/{attempt('sync')}")
print(" ".join(res))
PY
out=$(FAULTFS_DIR=$D FAULTFS_CTL=$T/ctl LD_PRELOAD=$BIN/faultfs.so \
	python3 "$T/faults.py" "$D" "$T/ctl")
[ "$out" = "ENOSPC/ok ok/EIO ok/ok" ] || fail "injected faults: $out"
echo "faultfs: ok"
