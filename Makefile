# SparkPilot - one Makefile for the scheduler, the agent, spctl and the tests.
#   make            build bin/sparkpilot-scheduler, bin/sparkpilot-agent, bin/spctl
#   make check      unit tests (plain and ASan+UBSan), the fuzz corpora
#                   replayed, and integration tests
#   make fuzz       each fuzz target for FUZZ_SECONDS under libFuzzer (clang)
#   make demo       the main job end to end on a temporary scheduler
#   make bench      benchmarks (figures go to docs/performance.md)
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
BUILD ?= build
SANBUILD ?= build-san
FUZZBUILD ?= build-fuzz
FUZZ_CC ?= clang
PYDIR := $(CURDIR)/$(BUILD)/python
export PATH := $(PYDIR):$(PATH)

# snprintf into fixed-size record fields truncates on purpose, hence
# -Wno-format-truncation.
WARN := -Wall -Wextra -Werror -Wformat=2 -Wstrict-prototypes -Wvla \
	-Wwrite-strings -Wno-missing-field-initializers -Wno-format-truncation
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -MMD -MP \
	-Icommon -Ischeduler -Iagent -Itests/unit/lib
LIBS := -lnng -lmsgpackc -lrocksdb -lcurl -lssl -lcrypto -lz -lpcre2-8 \
	-lpthread -lm
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
# The fuzz tree: every object carries libFuzzer's coverage hooks. clang
# warns where gcc does not (format strings passed on as va_list): shown,
# not fatal, since gcc's build is the one that enforces the warnings.
FUZZ_CFLAGS := $(SANFLAGS) -fsanitize=fuzzer-no-link -Wno-error \
	-Wno-unknown-warning-option

COMMON_SRC := $(wildcard common/*.c)
SCHED_SRC := $(filter-out scheduler/main.c,$(wildcard scheduler/*.c))
AGENT_SRC := $(filter-out agent/main.c,$(wildcard agent/*.c))
SPCTL_SRC := $(wildcard scheduler/spctl/*.c)
AUDITV_SRC := $(wildcard scheduler/auditverify/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
TESTLIB_SRC := $(wildcard tests/unit/lib/*.c)
TOOL_SRC := $(wildcard tests/tools/*.c)
BENCH_SRC := $(wildcard bench/*.c)

BINS := bin/sparkpilot-scheduler bin/sparkpilot-agent \
	bin/sparkpilot-agent-static bin/spctl bin/sparkpilot-audit-verify

all: $(BINS) tools

# Installs missing dependencies (needs root; says which is missing): those
# of the build for `make`, those of the tests too for the test targets.
deps:
	@scripts/install-deps.sh --build --check-or-install
test-deps: $(PYDIR)/python3
	@scripts/install-deps.sh --check-or-install

# The tests, the demo and the benchmarks call python3 thousands of times,
# so they run Debian's directly: a version manager's shim first in PATH
# (pyenv's is a bash script) costs about 0.4 s a call on a 2-core VM,
# Debian's python3 0.06 s. A directory holding only a link to it comes
# first in PATH (where there is no /usr/bin/python3, the dangling link is
# passed over and PATH's python3 runs).
$(PYDIR)/python3:
	@mkdir -p $(@D) && ln -sf /usr/bin/python3 $@

# What every rule making a file from sources alone waits for, under any
# -j: the dependencies installed (order-only; the tests' too when a test
# goal is asked for: their objects need cmocka's header) and, when `clean`
# is asked for with other goals (`make -j4 clean all`), the old trees
# removed (a real prerequisite then, so everything is made again).
TEST_GOALS := check unit unit-san integration chaos chaos-short fuzz \
	fuzz-replay fuzz-corpus soak soak-short
FIRST := $(filter clean,$(MAKECMDGOALS)) | \
	$(if $(filter $(TEST_GOALS),$(MAKECMDGOALS)),test-deps,deps)

objs = $(patsubst %.c,$(1)/%.o,$(2))

# The version every binary prints (--version): git describe at build time.
# Only common/version.o carries it; it is compiled again when the version
# changes (the tree's version.txt is rewritten only then).
SP_VERSION := $(shell git describe --always --dirty --tags 2>/dev/null || \
	echo unknown)

# A build tree: $(1) its directory, $(2) extra flags, $(3) the compiler
# if not $(CC) (the fuzz tree's clang).
define build_tree
$(1)/%.o: %.c $$(FIRST)
	@mkdir -p $$(dir $$@)
	$(if $(3),$(3),$$(CC)) $$(ALL_CFLAGS) $(2) -c $$< -o $$@
$(1)/libcommon.a: $$(call objs,$(1),$$(COMMON_SRC))
	$$(AR) rcs $$@ $$^
$(1)/libsched.a: $$(call objs,$(1),$$(SCHED_SRC))
	$$(AR) rcs $$@ $$^
$(1)/libagent.a: $$(call objs,$(1),$$(AGENT_SRC))
	$$(AR) rcs $$@ $$^
$(1)/sp-sim: $(1)/tests/sim/sp-sim.o $(1)/tests/sim/sim_cost.o $(1)/tests/sim/sim_flow.o $(1)/tests/sim/sim_sched.o $(1)/libsched.a $(1)/libcommon.a
	$(if $(3),$(3),$$(CC)) $(2) -o $$@ $$^ $$(LIBS)
$(1)/libtest.a: $$(call objs,$(1),$$(TESTLIB_SRC))
	$$(AR) rcs $$@ $$^
$(1)/tests/%: $(1)/tests/unit/%.o $(1)/libtest.a $(1)/libsched.a $(1)/libagent.a $(1)/libcommon.a
	$(if $(3),$(3),$$(CC)) $(2) -o $$@ $$^ $$(LIBS) -lcmocka $$(TEST_LDFLAGS)
$(1)/common/version.o: ALL_CFLAGS += -DSP_VERSION='"$$(SP_VERSION)"'
$(1)/common/version.o: $(1)/version.txt
$(1)/version.txt: FORCE
	@mkdir -p $$(dir $$@)
	@[ "$$$$(cat $$@ 2>/dev/null)" = "$$(SP_VERSION)" ] || \
		echo "$$(SP_VERSION)" >$$@
-include $$(shell find $(1) -name '*.d' 2>/dev/null)
endef

$(eval $(call build_tree,$(BUILD),))
$(eval $(call build_tree,$(SANBUILD),$(SANFLAGS)))
$(eval $(call build_tree,$(FUZZBUILD),$(FUZZ_CFLAGS),$(FUZZ_CC)))

bin/sparkpilot-scheduler: $(BUILD)/scheduler/main.o $(BUILD)/libsched.a $(BUILD)/libcommon.a
	@mkdir -p bin
	$(CC) -o $@ $^ $(LIBS) -lsystemd
bin/sparkpilot-agent: $(BUILD)/agent/main.o $(BUILD)/libagent.a $(BUILD)/libcommon.a
	@mkdir -p bin
	$(CC) -o $@ $^ $(LIBS)
# The agent linked statically (docs/operator-guide.md, Agent builds): no
# shared library to map and relocate, so it idles in about 4.5 MB instead of
# 6.8. It cannot load libcurl (a static process cannot dlopen a library
# that needs libc.so), so its sparkrest.o is built without: spark_rest_url
# is refused at start. glibc warns that getaddrinfo would load NSS modules
# at run time; the "files" and "dns" sources are built into glibc 2.34+.
STATIC_AGENT_LIBS := -lnng -lmbedtls -lmbedx509 -lmbedcrypto -lmsgpackc -lz \
	-lcrypto -lpcre2-8 -lpthread -lm
$(BUILD)/static/%.o: agent/%.c $(FIRST)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DSP_STATIC_AGENT -c $< -o $@
# the files that need libcurl, built without it: curl_dl.c loads nothing
# (every HTTP call fails saying so: Livy, the ResourceManager, EMR on
# EKS), sparkrest.c refuses spark_rest_url at start, aws_http.c names the
# dynamic agent, and backend_emr.c registers emr-eks as not built in
# (backend_unavailable).
STATIC_NOCURL := curl_dl sparkrest aws_http backend_emr
bin/sparkpilot-agent-static: $(BUILD)/agent/main.o \
		$(filter-out $(STATIC_NOCURL:%=$(BUILD)/agent/%.o),$(call objs,$(BUILD),$(AGENT_SRC))) \
		$(STATIC_NOCURL:%=$(BUILD)/static/%.o) $(BUILD)/libcommon.a
	@mkdir -p bin
	$(CC) -static -no-pie -Wl,--gc-sections -o $@ $^ $(STATIC_AGENT_LIBS) \
		2>$@.log || { cat $@.log; exit 1; }
	@rm -f $@.log
bin/spctl: $(call objs,$(BUILD),$(SPCTL_SRC)) $(BUILD)/libcommon.a
	@mkdir -p bin
	$(CC) -o $@ $^ $(LIBS)
# The offline check of an audit export (docs/operator-guide.md, Audit log).
bin/sparkpilot-audit-verify: $(call objs,$(BUILD),$(AUDITV_SRC)) $(BUILD)/libcommon.a
	@mkdir -p bin
	$(CC) -o $@ $^ $(LIBS)
bin/%: $(BUILD)/tests/tools/%.o $(BUILD)/libsched.a $(BUILD)/libagent.a $(BUILD)/libcommon.a
	@mkdir -p bin
	$(CC) -o $@ $^ $(LIBS)
bin/%: $(BUILD)/bench/%.o $(BUILD)/libsched.a $(BUILD)/libagent.a $(BUILD)/libcommon.a
	@mkdir -p bin
	$(CC) -o $@ $^ $(LIBS)

tools: $(patsubst tests/tools/%.c,bin/%,$(TOOL_SRC)) bin/faultfs.so
# sp-docgen's compat-md shares the Spark matrix walker with its unit test
# (tests/unit/lib/spark_matrix.c, which needs no cmocka).
bin/sp-docgen: $(BUILD)/tests/tools/sp-docgen.o \
		$(BUILD)/tests/unit/lib/spark_matrix.o $(BUILD)/libsched.a \
		$(BUILD)/libagent.a $(BUILD)/libcommon.a
	@mkdir -p bin
	$(CC) -o $@ $^ $(LIBS)

# The fault-injection and power-loss shim of the tests (LD_PRELOAD; see
# tests/faultfs/faultfs.c).
bin/faultfs.so: tests/faultfs/faultfs.c $(FIRST)
	@mkdir -p bin
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -fPIC -shared -o $@ $< -ldl -lpthread

# test_tenant_delete stops the delete's worker in its store scan, through
# a wrapper of store_scan (the test's __wrap_store_scan).
$(BUILD)/tests/test_tenant_delete $(SANBUILD)/tests/test_tenant_delete: \
	TEST_LDFLAGS := -Wl,--wrap=store_scan
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
SAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(SANBUILD)/tests/%,$(UNIT_SRC))

unit: test-deps $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)

unit-san: test-deps $(SAN_UNIT_BINS)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		scripts/run-unit.sh $(SAN_UNIT_BINS)

integration: test-deps all
	@tests/integration/run.sh
	@echo "== the same flows with the static agent"
	@AGENT_BIN=$(CURDIR)/bin/sparkpilot-agent-static tests/integration/run.sh \
		t0100-full-flow.sh t0800-tls.sh t0810-agent-reload.sh \
		t1300-telemetry-spool.sh t0070-systemd-notify.sh \
		t0085-syscalls.sh t1950-key-rotation.sh
	@echo "== at the calendar's edges (daemons' clock moved by libfaketime)"
	@tests/integration/dates.sh

# Deterministic simulation of the scheduling core (tests/sim/sp-sim.c):
# `make sim` is the long form; check runs a short one under the sanitizers.
SIM_SEEDS ?= 300
SIM_STEPS ?= 5000
# The schedules' scenario (--schedules) runs a simulated year a seed, in a
# daylight-saving zone (UTC where the zone does not load).
SIM_SCHED_SEEDS ?= 100
SIM_TZ ?= Europe/Berlin
sim: $(BUILD)/sp-sim
	@mkdir -p bin && cp $(BUILD)/sp-sim bin/sp-sim
	bin/sp-sim --seeds $(SIM_SEEDS) --steps $(SIM_STEPS)
	bin/sp-sim --schedules --seeds $(SIM_SCHED_SEEDS) --tz $(SIM_TZ)

sim-short: $(SANBUILD)/sp-sim
	@$(SANBUILD)/sp-sim --seeds 25 --steps 3000
	@$(SANBUILD)/sp-sim --schedules --seeds 10 --tz $(SIM_TZ)

# Crash safety with real processes (scripts/chaos/kill-scheduler.sh):
# `make chaos` is the long form; check runs a short one, then a short one
# with a simulated power loss after each kill (CHAOS_POWER_LOSS=1 gives
# the long form that too). A failure prints its seed: CHAOS_SEED=S
# replays the same kill schedule.
CHAOS_CYCLES ?= 1000
CHAOS_SEED ?=
CHAOS_POWER_LOSS ?=
CHAOS_SEED_FLAG = $(if $(CHAOS_SEED),--seed $(CHAOS_SEED))
CHAOS_FLAGS = $(CHAOS_SEED_FLAG) $(if $(CHAOS_POWER_LOSS),--power-loss)
chaos: test-deps all bin/sp-agentsim
	scripts/chaos/kill-scheduler.sh --cycles $(CHAOS_CYCLES) $(CHAOS_FLAGS)

chaos-short: test-deps all bin/sp-agentsim
	@scripts/chaos/kill-scheduler.sh --cycles 25 $(CHAOS_FLAGS)
	@scripts/chaos/kill-scheduler.sh --cycles 10 --power-loss $(CHAOS_SEED_FLAG)

# Fuzzing (docs/fuzzing.md): one libFuzzer target per parser of outside
# input, tests/fuzz/fuzz_NAME.c, with its seed corpus in
# tests/fuzz/corpus/NAME and its past crash inputs in tests/fuzz/crashes/NAME.
# `make fuzz` builds the targets with clang and runs each for FUZZ_SECONDS
# (FUZZ_TARGETS="json wire" to choose); new crash files land in
# $(FUZZBUILD)/crashes/NAME. `make fuzz-replay` (part of check, no clang
# needed) feeds every corpus and crash file once to the same entry points,
# built with $(CC) under ASan+UBSan.
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_SECONDS ?= 60
fuzz_libs = $(1)/tests/fuzz/fuzzlib.o $(1)/libtest.a $(1)/libsched.a \
	$(1)/libagent.a $(1)/libcommon.a

$(FUZZBUILD)/fuzz/fuzz_%: $(FUZZBUILD)/tests/fuzz/fuzz_%.o $(call fuzz_libs,$(FUZZBUILD))
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(SANFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS) -lcmocka
$(SANBUILD)/fuzz/replay_%: $(SANBUILD)/tests/fuzz/fuzz_%.o $(SANBUILD)/tests/fuzz/replay_main.o $(call fuzz_libs,$(SANBUILD))
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ $(LIBS) -lcmocka

fuzz: test-deps
	@scripts/install-deps.sh --fuzz
	@$(MAKE) --no-print-directory \
		$(patsubst %,$(FUZZBUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))
	@tests/fuzz/run.sh --seconds $(FUZZ_SECONDS) --bin $(FUZZBUILD)/fuzz \
		--work $(FUZZBUILD) $(FUZZ_TARGETS)

fuzz-replay: test-deps $(patsubst %,$(SANBUILD)/fuzz/replay_%,$(FUZZ_NAMES))
	@tests/fuzz/replay.sh $(SANBUILD)/fuzz $(FUZZ_NAMES)

# Rewrites the generated seeds (gen-*) of tests/fuzz/corpus.
$(BUILD)/gen-corpus: $(BUILD)/tests/fuzz/gen-corpus.o $(call fuzz_libs,$(BUILD))
	$(CC) -o $@ $^ $(LIBS) -lcmocka
fuzz-corpus: test-deps $(BUILD)/gen-corpus
	rm -f tests/fuzz/corpus/*/gen-*
	$(BUILD)/gen-corpus tests/fuzz/corpus tests/data

# Mixed load watched for leaks (scripts/soak/soak.sh): `make soak` runs
# MINUTES of it; check runs a 2-minute form.
MINUTES ?= 10
soak: test-deps all bin/sp-agentsim
	scripts/soak/soak.sh --minutes $(MINUTES)

soak-short: test-deps all bin/sp-agentsim
	@scripts/soak/soak.sh --minutes 2 --round-seconds 30 --flush-wait 0

.PHONY: soak soak-short

check: test-deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory unit-san
	@$(MAKE) --no-print-directory fuzz-replay
	@$(MAKE) --no-print-directory sim-short
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory chaos-short
	@$(MAKE) --no-print-directory soak-short

demo: all $(PYDIR)/python3
	@scripts/install-deps.sh --demo --check-or-install
	@scripts/demo.sh

# Whole-system checks, outside `make check` (root; they fetch Debian 12
# from its archive): both daemons as services under a real systemd (a
# systemd-nspawn container), then the README's Quick start on a fresh
# minimal Debian (a debootstrap chroot). docs/operator-guide.md, System
# tests.
system-test: all
	tests/system/systemd-container.sh
	tests/system/fresh-debian.sh

# The scheduling core's figures; fan-in (the scheduler's cost of 1,000
# and 10,000 idle agents, submit -> agent latency among them); telemetry's:
# ingest of signed batches, the agent's memory, redaction throughput; then
# backups (bench/backup.sh: backup time and size, restore + start = RTO),
# retention slices and run list's filtered queries over millions of runs;
# then 3,000,000 runs stored (bench/millions.sh): memory per run, restart,
# latency against an empty store.
bench: all $(PYDIR)/python3 $(patsubst bench/%.c,bin/%,$(BENCH_SRC))
	@bench/run.sh
	@echo "== fan-in: 1,000 idle agents (bin/sp-fleetsim), 1,000 starts/s"
	@bench/fanin.sh --agents 1000 --rate 1000 --seconds 10
	@echo "== fan-in: 10,000 idle agents, 1,000 starts/s"
	@bench/fanin.sh --agents 10000 --rate 1000 --seconds 10
	@echo "== telemetry ingest (3 agents x 4 batches x 500 events per message)"
	@bench/ingest.sh --agents 3 --batches 4 --events 500 --seconds 10
	@echo "== agent memory"
	@bench/agent-mem.sh --lines 200000 --seconds 20
	@echo "== agent memory, static build"
	@bench/agent-mem.sh --lines 200000 --seconds 20 --agent sparkpilot-agent-static
	@echo "== redaction"
	@bin/sp-bench-redact
	@echo "== encryption at rest: seal on ingest, open on run logs"
	@bin/sp-bench-seal
	@echo "== backups and restore (1,000,000 runs)"
	@bench/backup.sh
	@echo "== retention slices (1,000,000 runs)"
	@d=$$(mktemp -d) && bin/sp-bench-retention $$d/store 1000000 2>/dev/null; \
		rc=$$?; rm -rf $$d; exit $$rc
	@echo "== run list filters (3,000,000 runs): query time and core stall"
	@d=$$(mktemp -d) && bin/sp-bench-runlist $$d/store 3000000 2>/dev/null; \
		rc=$$?; rm -rf $$d; exit $$rc
	@echo "== serial request path against beanstalkd (fsync after every write)"
	@bench/vs-beanstalkd.sh --seconds 5 --rounds 3
	@echo "== serial request path: instructions per start (callgrind)"
	@bench/serial-instr.sh --seconds 5
	@echo "== millions of runs (3,000,000 queued): memory, restart, latency"
	@bench/millions.sh --runs 3000000 --rounds 3

# Where `make install` puts things (PREFIX and DESTDIR as usual; the config
# stays in /etc unless SYSCONFDIR says otherwise). The units are generated
# with these paths; the config samples are the daemons' defaults as
# --print-config writes them, and a real config file is installed from its
# sample only if there is none.
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
DOCDIR ?= $(PREFIX)/share/doc/sparkpilot
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
MANDIR ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
CONFDIR = $(DESTDIR)$(SYSCONFDIR)/sparkpilot
UNIT_SUBST = -e 's|@BINDIR@|$(BINDIR)|g' \
	-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g'

# Documentation made from the code's tables (tests/tools/sp-docgen.c):
# docs/configuration.md and docs/compatibility.md (the Spark matrix: the
# agent's parser over tests/data/spark-matrix) are committed (t0080 fails
# when one is stale: run `make docs`), the man page is made at build time.
docs: bin/sp-docgen
	bin/sp-docgen config-md >docs/configuration.md
	bin/sp-docgen compat-md tests/data/spark-matrix >docs/compatibility.md
MAN_PAGES := $(BUILD)/man/sparkpilot.conf.5 $(BUILD)/man/spctl.1 \
	$(BUILD)/man/sparkpilot-scheduler.8 $(BUILD)/man/sparkpilot-agent.8
$(BUILD)/man/sparkpilot.conf.5: bin/sp-docgen
	@mkdir -p $(dir $@)
	bin/sp-docgen config-man >$@
$(BUILD)/man/spctl.1: bin/sp-docgen
	@mkdir -p $(dir $@)
	bin/sp-docgen spctl-man >$@
$(BUILD)/man/sparkpilot-%.8: bin/sp-docgen
	@mkdir -p $(dir $@)
	bin/sp-docgen $*-man >$@
$(BUILD)/completion/spctl: bin/sp-docgen
	@mkdir -p $(dir $@)
	bin/sp-docgen spctl-completion >$@
man: $(MAN_PAGES) $(BUILD)/completion/spctl

install: all man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(CONFDIR) \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(TMPFILESDIR)
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	for u in systemd/*.service.in; do \
		sed $(UNIT_SUBST) $$u >$(DESTDIR)$(UNITDIR)/$$(basename $$u .in) \
			&& chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u .in) \
			|| exit 1; \
	done
	install -m 0644 systemd/*.timer $(DESTDIR)$(UNITDIR)/
	install -m 0644 systemd/sparkpilot.sysusers \
		$(DESTDIR)$(SYSUSERSDIR)/sparkpilot.conf
	install -m 0644 systemd/sparkpilot.tmpfiles \
		$(DESTDIR)$(TMPFILESDIR)/sparkpilot.conf
	for d in scheduler agent; do \
		{ echo "# sparkpilot-$$d settings: the defaults of $(SP_VERSION)."; \
		  echo "# Every key: $(DOCDIR)/operator-guide.md"; \
		  bin/sparkpilot-$$d --print-config; } >$(CONFDIR)/$$d.conf.sample \
			|| exit 1; \
		chmod 0644 $(CONFDIR)/$$d.conf.sample; \
		[ -e $(CONFDIR)/$$d.conf ] || \
			cp -p $(CONFDIR)/$$d.conf.sample $(CONFDIR)/$$d.conf; \
	done
	install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(COMPLETIONDIR)
	install -m 0644 $(BUILD)/man/spctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(BUILD)/man/sparkpilot.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(BUILD)/man/sparkpilot-scheduler.8 \
		$(BUILD)/man/sparkpilot-agent.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(BUILD)/completion/spctl $(DESTDIR)$(COMPLETIONDIR)/

clean:
	rm -rf $(BUILD) $(SANBUILD) $(FUZZBUILD) bin

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

.PHONY: all deps test-deps tools docs man unit unit-san integration sim sim-short chaos \
	chaos-short check demo system-test fuzz fuzz-replay fuzz-corpus \
	bench install clean format
.PHONY: FORCE
FORCE:
.SECONDARY:
