# lib.sh - what the benchmark scripts share (sourced): their binaries, a
# temporary directory, an admin socket in it and a free loopback port, and
# stopping what they started, by PID.
#   bench_setup NAME BINARY...   sets ROOT BIN D SOCK PORT URL
#   bench_stop PID...            SIGTERM each, then wait for each

bench_setup() {
	local name=$1 b
	shift
	ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	BIN=$ROOT/bin
	for b in "$@"; do
		[ -x "$BIN/$b" ] || { echo "$0: $BIN/$b is missing: run make bench" >&2; exit 2; }
	done
	D=$(mktemp -d "${TMPDIR:-/tmp}/sp-$name.XXXXXX")
	SOCK=$D/admin.sock
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	URL=tcp://127.0.0.1:$PORT
}

bench_stop() {
	local p
	for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "$@"; do wait "$p" 2>/dev/null || true; done
}
