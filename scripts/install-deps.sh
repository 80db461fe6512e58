#!/bin/sh
# Installs SparkPilot's build and test dependencies from Debian 12 packages.
# Idempotent: when everything is present it returns at once.
#   scripts/install-deps.sh                 install what is missing
#   scripts/install-deps.sh --check-or-install   same, used by make
#   scripts/install-deps.sh --build     only what `make` (the build) needs
#   scripts/install-deps.sh --demo      the build's, and what `make demo` runs
#   scripts/install-deps.sh --fuzz      also clang and libFuzzer (make fuzz)
set -eu

# What the build needs: a compiler and the libraries' headers.
BUILD_PKGS="build-essential pkg-config libnng-dev libmbedtls-dev
libmsgpack-dev librocksdb-dev libcurl4-openssl-dev libssl-dev zlib1g-dev"
# PCRE2 runs the operators' redact_rule patterns: JIT, and match, depth
# and heap limits that POSIX regcomp/regexec lack
BUILD_PKGS="$BUILD_PKGS libpcre2-dev"
# libsystemd: the scheduler tells systemd when it is ready, what it is
# doing and that its core thread is alive (sd_notify, Type=notify with a
# watchdog): the standard client of that protocol
BUILD_PKGS="$BUILD_PKGS libsystemd-dev"

# What the tests need besides (make check): cmocka for the unit tests, the
# tools the integration scripts drive the daemons with. faketime
# (libfaketime): the integration tests run the daemons with their wall
# clock moved to a month's first seconds, a midnight, February 29
# (tests/integration/dates.sh): the standard way to give an unmodified,
# dynamically linked binary another date.
TEST_PKGS="libcmocka-dev python3 socat openssl iproute2 procps faketime"
# groff-base: t0080 formats the generated man page and fails on a warning
TEST_PKGS="$TEST_PKGS groff-base"
# prometheus: promtool checks /metrics as Prometheus reads it, and t1700
# has a real Prometheus scrape the scheduler and answers a PromQL query
TEST_PKGS="$TEST_PKGS prometheus"
# strace: t0085 lists the scheduler's system calls to hold them to the
# unit's SystemCallFilter (systemd-analyze, from systemd, names the sets)
TEST_PKGS="$TEST_PKGS strace systemd"
# tzdata: the time zone database (/usr/share/zoneinfo) that cron
# schedules' zones are read from (common/tzone.c); test_tzone, test_cron
# and the tzone and cron fuzz targets load Europe/Berlin and others from it
TEST_PKGS="$TEST_PKGS tzdata"
PKGS="$BUILD_PKGS $TEST_PKGS"
# `make demo`: the fake spark-submit the demo's agent runs is a python3
# script, and the demo reads spctl's JSON with python3
DEMO_PKGS="python3"
# `make fuzz` only (docs/fuzzing.md): clang builds the libFuzzer targets,
# libclang-rt-dev holds libFuzzer and clang's sanitizer runtimes, llvm
# the llvm-symbolizer that puts file:line in their stack traces. `make
# check` replays the corpora with gcc and needs none of them.
FUZZ_PKGS="clang libclang-rt-dev llvm"

for arg in "$@"; do
	case $arg in
	--fuzz) PKGS="$PKGS $FUZZ_PKGS" ;;
	--build) PKGS="$BUILD_PKGS" ;;
	--demo) PKGS="$BUILD_PKGS $DEMO_PKGS" ;;
	--check-or-install) ;;
	*) echo "install-deps: unknown option '$arg'" >&2; exit 2 ;;
	esac
done

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run 'sudo scripts/install-deps.sh' to install them" >&2
	exit 1
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# No package may start a service here (prometheus would): invoke-rc.d
# asks policy-rc.d, and 101 means "not now". Ours only if there is none.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
