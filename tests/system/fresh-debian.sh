#!/bin/bash
# fresh-debian.sh - the README's Quick start on a minimal Debian 12:
# debootstrap --variant=minbase (what a minimal install or a container
# image has: no make, no git, no python3), a clean clone of this
# repository's HEAD, then the README's prerequisite line and its two
# commands, `make demo` and `make check`, in a chroot.
#
#   tests/system/fresh-debian.sh [WORKDIR]     (root; default
#                                               /var/tmp/sparkpilot-fresh)
#
# Needs root, debootstrap (installed if missing) and Debian's archive.
# Takes 15-25 minutes on 2 cores; its log is WORKDIR/run.log. Exit 0 when
# both commands succeed. Not part of `make check` (it downloads a system);
# `make system-test` runs it.
set -u
ROOT_DIR=$(cd "$(dirname "$0")/../.." && pwd)
W=${1:-/var/tmp/sparkpilot-fresh}
R=$W/root
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

[ "$(id -u)" = 0 ] || { echo "fresh-debian: needs root" >&2; exit 2; }
command -v debootstrap >/dev/null ||
	{ apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; } ||
	{ echo "fresh-debian: cannot install debootstrap" >&2; exit 2; }

cleanup() {
	umount -R "$R" 2>/dev/null
}
trap cleanup EXIT
cleanup
rm -rf "$R"
mkdir -p "$W"
echo "fresh-debian: debootstrap minbase bookworm into $R"
debootstrap --variant=minbase bookworm "$R" "$MIRROR" >"$W/debootstrap.log" 2>&1 ||
	{ echo "fresh-debian: debootstrap failed: $W/debootstrap.log" >&2; exit 1; }
cp /etc/resolv.conf "$R/etc/resolv.conf"
# a machine's / is a mount point (ip netns makes it a slave mount)
mount --bind "$R" "$R"
mount --bind /proc "$R/proc"
mount --bind /sys "$R/sys"
mount --bind /dev "$R/dev"
mount --bind /dev/pts "$R/dev/pts"
mount -t tmpfs tmpfs "$R/dev/shm"
git clone -q "$ROOT_DIR" "$R/root/sparkpilot"
# The README's lines, verbatim where they are commands.
prereq=$(grep -m1 '^apt-get update && apt-get install' "$ROOT_DIR/README.md")
[ -n "$prereq" ] || { echo "fresh-debian: no prerequisite line in README.md" >&2; exit 1; }
cat >"$R/root/quickstart.sh" <<EOF
#!/bin/bash
set -x
export HOME=/root DEBIAN_FRONTEND=noninteractive
$prereq || exit 10
cd /root/sparkpilot
start=\$(date +%s)
make demo || exit 11
echo "fresh-debian: make demo ok in \$((\$(date +%s) - start)) s"
start=\$(date +%s)
make check || exit 12
echo "fresh-debian: make check ok in \$((\$(date +%s) - start)) s"
EOF
chmod +x "$R/root/quickstart.sh"
echo "fresh-debian: running the Quick start (log: $W/run.log)"
chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb \
	/root/quickstart.sh >"$W/run.log" 2>&1
rc=$?
grep '^fresh-debian:' "$W/run.log"
case $rc in
0) echo "fresh-debian: ok" ;;
10) echo "fresh-debian: the prerequisite line failed" ;;
11) echo "fresh-debian: make demo failed" ;;
*) echo "fresh-debian: make check failed"; grep -E '^FAIL|failed' "$W/run.log" | head ;;
esac
exit $rc
