# envpool — hand-written Makefile (redis-style).
#
#   make                 build build/envpool and build/envpoold
#   make check           build and run every test (unit, sample files, integration);
#                        T=NAME runs one, V=1 shows passing tests' output
#   make SANITIZE=address,undefined check     the same under sanitizers (build-san/)
#   make valgrind        unit tests and dump over the samples under valgrind
#   make fuzz            libFuzzer targets (clang), FUZZ_SECONDS each
#   make demo | bench | bench-memory | install | uninstall | clean | deps
#   make bench-open BENCH_OPEN_DIR=DIR   cold open of DIR's Gen, lazy vs eager, RSS
#   make bench-find BENCH_FIND_DIR=DIR   decl.find on DIR's Gen: index build, latency, index memory
#   make stress          the suite and the demo STRESS_N times (default 10), then tests/stress/*.sh
#   make deps            install every Debian package of DEB_PKGS (demo and check
#                        check theirs first); make print-deps lists them
#
# Sources are found by wildcard: a new .c in a library folder joins libenvpool.a,
# a new tests/unit/<dir>/test_<name>.c becomes its own cmocka binary.

PKG_CONFIG ?= pkg-config
CC         ?= cc
PREFIX     ?= /usr/local
DESTDIR    ?=
V          ?= 0

ifeq ($(SANITIZE),)
BUILD      ?= build
else
BUILD      ?= build-san
endif

WARN  = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wvla -Wconversion -Wno-sign-conversion
ifeq ($(WERROR),1)
WARN += -Werror
endif

# DWARF 4: valgrind 3.19 (Debian 12) cannot read clang's default DWARF 5.
OPT  ?= -O2 -gdwarf-4
PROJECT_CFLAGS = -std=c11 -D_GNU_SOURCE -I. $(WARN) $(OPT) -MMD -MP -pthread
ifneq ($(SANITIZE),)
PROJECT_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
PROJECT_LDFLAGS += -fsanitize=$(SANITIZE)
endif

# Hardening, on by default (HARDEN=0 leaves it out): stack canaries, a
# position-independent executable, the GOT read-only after relocation, and
# glibc's checked string/memory calls at level 3 (sizes known at run time too;
# gcc 12 and glibc 2.36 of Debian 12 support it). _FORTIFY_SOURCE is left to
# the sanitizers in a SANITIZE build (its checked calls would hide accesses from
# ASan) and needs an optimizing OPT.
HARDEN ?= 1
ifeq ($(HARDEN),1)
PROJECT_CFLAGS  += -fstack-protector-strong -fPIE
PROJECT_LDFLAGS += -pie -Wl,-z,relro,-z,now
ifeq ($(SANITIZE)$(filter -O0,$(OPT)),)
PROJECT_CFLAGS  += -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3
endif
endif

HAVE_SYSTEMD := $(shell $(PKG_CONFIG) --exists libsystemd 2>/dev/null && echo 1)
DEP_PKGS      = libuv jansson
ifeq ($(HAVE_SYSTEMD),1)
DEP_PKGS     += libsystemd
PROJECT_CFLAGS += -DHAVE_SYSTEMD=1
endif
DEP_CFLAGS   := $(shell $(PKG_CONFIG) --cflags $(DEP_PKGS) 2>/dev/null)
DEP_LIBS     := $(shell $(PKG_CONFIG) --libs $(DEP_PKGS) 2>/dev/null)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

ALL_CFLAGS  = $(PROJECT_CFLAGS) $(DEP_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(PROJECT_LDFLAGS) $(LDFLAGS)
ALL_LIBS    = $(DEP_LIBS) -lm $(LIBS)

# Everything built depends on $(BUILD)/flags, the compile and link command lines:
# it is rewritten when they change (another OPT, CFLAGS, HARDEN, WERROR, a new
# library version), which makes every object and binary out of date.
FLAGS_STAMP = $(BUILD)/flags
FLAGS_LINE  = $(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) ; $(ALL_LDFLAGS) $(ALL_LIBS) $(CMOCKA_LIBS)
ifneq ($(filter-out clean deps deps-build deps-all print-deps,$(or $(MAKECMDGOALS),all)),)
ifneq ($(file <$(FLAGS_STAMP)),$(FLAGS_LINE))
$(shell mkdir -p $(BUILD))
$(file >$(FLAGS_STAMP),$(FLAGS_LINE))
endif
endif

ifeq ($(V),1)
Q =
say =
else
Q = @
say = @printf '  %-6s %s\n' $(1) $(2);
endif

LIB_DIRS  = util region lean pool protocol
LIB_SRC   = $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LIB_OBJ   = $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB       = $(BUILD)/libenvpool.a

CLI_SRC    = $(wildcard cli/*.c)
DAEMON_SRC = $(wildcard daemon/*.c)
CLI_OBJ    = $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
DAEMON_OBJ = $(DAEMON_SRC:%.c=$(BUILD)/obj/%.o)

BINS = $(if $(CLI_SRC),$(BUILD)/envpool) $(if $(DAEMON_SRC),$(BUILD)/envpoold)

UNIT_SRC   = $(wildcard tests/unit/*/test_*.c)
UNIT_BINS  = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
TEST_SUPPORT_SRC = $(wildcard tests/support/*.c)
TEST_SUPPORT_OBJ = $(TEST_SUPPORT_SRC:%.c=$(BUILD)/obj/%.o)
INTEG_SCRIPTS = $(sort $(wildcard tests/integration/*.sh))

SAMPLES ?= $(abspath ../shared/lean-samples)
export ENVPOOL_SAMPLES = $(SAMPLES)
export ENVPOOL_BUILD   = $(abspath $(BUILD))
export ENVPOOL_SANITIZE = $(SANITIZE)

.PHONY: all check unit integration valgrind fuzz demo bench bench-pool bench-open bench-find bench-memory install uninstall clean deps examples
.PHONY: run-check run-valgrind stress run-stress run-demo deps-build deps-all print-deps
.SUFFIXES:
# Keep intermediate objects (test .o files) so that rebuilds stay incremental.
.SECONDARY:

all: $(BINS) examples

$(FLAGS_STAMP):
	@mkdir -p $(dir $@) && touch $@

$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(BUILD)/envpool: $(CLI_OBJ) $(LIB)
	$(call say,LINK,$@)$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(ALL_LIBS)

$(BUILD)/envpoold: $(DAEMON_OBJ) $(LIB)
	$(call say,LINK,$@)$(CC) $(ALL_LDFLAGS) -o $@ $(DAEMON_OBJ) $(LIB) $(ALL_LIBS)

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(TEST_SUPPORT_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(ALL_LDFLAGS) -o $@ $< $(TEST_SUPPORT_OBJ) $(LIB) $(CMOCKA_LIBS) $(ALL_LIBS)

# Unit tests of cli/ (tests/unit/cli/) also link the tool's own library code.
CLI_UNIT_OBJ = $(BUILD)/obj/cli/gen_lib.o $(BUILD)/obj/cli/gen_measure.o
$(BUILD)/tests/unit/cli/%: $(BUILD)/obj/tests/unit/cli/%.o $(CLI_UNIT_OBJ) $(TEST_SUPPORT_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(ALL_LDFLAGS) -o $@ $< $(CLI_UNIT_OBJ) $(TEST_SUPPORT_OBJ) $(LIB) $(CMOCKA_LIBS) $(ALL_LIBS)

# Benchmark programs: tests/bench/bench_<name>.c, linked like unit tests.
BENCH_SRC  = $(wildcard tests/bench/bench_*.c)
BENCH_BINS = $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)
$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(TEST_SUPPORT_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(ALL_LDFLAGS) -o $@ $< $(TEST_SUPPORT_OBJ) $(LIB) $(CMOCKA_LIBS) $(ALL_LIBS)
bench-pool: $(BUILD)/bench/bench_pool
	$(Q)$(BUILD)/bench/bench_pool $(BENCH_POOL_ARGS)
# Cold open lazy vs eager at real weight: make bench-open BENCH_OPEN_DIR=build/bench-lib/lean
bench-open: $(BUILD)/bench/bench_open
	$(Q)$(BUILD)/bench/bench_open --dir $(BENCH_OPEN_DIR) $(BENCH_OPEN_ARGS)

# decl.find at real weight (issue 13.2): make bench-find BENCH_FIND_DIR=build/bench-lib/lean
bench-find: $(BUILD)/bench/bench_find
	$(Q)$(BUILD)/bench/bench_find --dir $(BENCH_FIND_DIR) $(BENCH_FIND_ARGS)

# The example library (examples/*.lean.txt) packed into build/examples/ once pack exists.
EXAMPLE_SRC = $(wildcard examples/*.txt)
examples: $(if $(and $(EXAMPLE_SRC),$(CLI_SRC)),$(BUILD)/examples/.stamp)
$(BUILD)/examples/.stamp: $(EXAMPLE_SRC) $(BUILD)/envpool
	$(call say,PACK,examples)$(BUILD)/envpool pack $(EXAMPLE_SRC) -o $(BUILD)/examples && touch $@

# tests/run-tests.sh: each test in its own process under a time limit; a test
# needing ../shared/lean-samples skips when they are absent (counted at the
# end); ENVPOOL_REQUIRE_SAMPLES=1 makes such a skip a failure. T=NAME runs
# one unit binary, one test (name or binary:name) or one script; V=1 shows
# the output of passing tests too.
RUN_TESTS = tests/run-tests.sh $(if $(T),--only '$(T)')
# make bench's client and baseline are not ours: ../shared/bench/loadgen.c (an
# independent load client) and jsond.c (a bare libuv + jansson lookup server),
# compiled in place into $(BUILD)/bench/, never copied into the repo. Defined before run-check,
# whose prerequisites are expanded where the rule is read.
SHARED_BENCH ?= $(abspath ../shared/bench)
ifneq ($(wildcard $(SHARED_BENCH)/loadgen.c),)
BENCH_TOOLS = $(BUILD)/bench/loadgen $(BUILD)/bench/jsond
endif
export ENVPOOL_BENCH_TOOLS = $(if $(BENCH_TOOLS),1,0)

# make demo, check and valgrind first see to the build dependencies (deps-*,
# below), then build and run in a second make: pkg-config's answers are read
# when the Makefile is parsed, so a make that just installed them must start over.
check: DEPS_FOR = check
check: deps-all
	+$(Q)$(MAKE) --no-print-directory run-check
run-check: all $(UNIT_BINS) $(BENCH_TOOLS)
	$(Q)$(RUN_TESTS) $(UNIT_BINS) $(INTEG_SCRIPTS)

valgrind: DEPS_FOR = valgrind
valgrind: deps-all
	+$(Q)$(MAKE) --no-print-directory run-valgrind
run-valgrind: all $(UNIT_BINS)
	$(Q)VALGRIND=1 ENVPOOL_DAMAGE_ROUNDS=2000 $(RUN_TESTS) $(UNIT_BINS) $(INTEG_SCRIPTS)

# make stress: the suite and the demo STRESS_N times in a row (default 10), then
# each tests/stress/*.sh (long loops of one kind; they read STRESS_N too);
# STRESS_LOAD=K runs K CPU burners meanwhile.
STRESS_N ?= 10
stress: DEPS_FOR = stress
stress: deps-all
	+$(Q)$(MAKE) --no-print-directory run-stress
run-stress: all $(UNIT_BINS)
	$(Q)STRESS_N=$(STRESS_N) tests/run-stress.sh $(if $(T),--only '$(T)') $(UNIT_BINS) $(INTEG_SCRIPTS)

# libFuzzer targets: tests/fuzz/fuzz_<name>.c, corpus in tests/fuzz/corpus/<name>/.
FUZZ_SRC     = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    = $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_SECONDS ?= 60
FUZZ_LIB_SRC = $(LIB_SRC) $(wildcard tests/support/damage.c)
build-fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRC)
	@mkdir -p build-fuzz
	$(call say,FUZZ,$@)clang -std=c11 -D_GNU_SOURCE -I. -g -O1 -pthread \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	  $(DEP_CFLAGS) -o $@ $< $(FUZZ_LIB_SRC) $(DEP_LIBS) -lm
fuzz: $(FUZZ_BINS)
	$(Q)for f in $(FUZZ_BINS); do n=$${f#build-fuzz/fuzz_}; \
	  mkdir -p build-fuzz/corpus-$$n; \
	  dict=; [ -f tests/fuzz/$$n.dict ] && dict=-dict=tests/fuzz/$$n.dict; \
	  extra=; case $$n in region|lazy|entries) extra=$(SAMPLES);; esac; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 $$dict build-fuzz/corpus-$$n tests/fuzz/corpus/$$n $$extra || exit 1; done

# Memory of envpoold with environments open (README "Scaling out"); BENCH_SCALE=mathlib for more.
bench-memory: all
	$(Q)BUILD=$(abspath $(BUILD)) python3 bench/memory.py

$(BUILD)/bench/loadgen: $(SHARED_BENCH)/loadgen.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) -O2 -g -w -o $@ $<
$(BUILD)/bench/jsond: $(SHARED_BENCH)/jsond.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) -O2 -g -w $(DEP_CFLAGS) -o $@ $< $(DEP_LIBS)

demo: DEPS_FOR = demo
demo: deps-build
	+$(Q)$(MAKE) --no-print-directory run-demo
run-demo: all
	$(Q)tests/demo.sh

# BENCH_SCALE=lean|mathlib|small (default lean); BENCH_QUICK=1: the small shape,
# one round, few requests (what make check runs); BENCH_RUNS=N rounds.
ifeq ($(BENCH_TOOLS),)
bench:
	@echo "make bench: $(SHARED_BENCH)/loadgen.c and jsond.c are missing; the bench needs that"
	@echo "independent client and baseline (../shared/bench), so it stops here."
	@exit 1
else
bench: all $(BENCH_TOOLS) $(BUILD)/bench/bench_region $(BUILD)/bench/bench_pool
	$(Q)BUILD=$(abspath $(BUILD)) python3 bench/run.py
endif

SYSTEMD_DIR ?= $(PREFIX)/lib/systemd/system
SYSUSERS_DIR ?= $(PREFIX)/lib/sysusers.d
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSTEMD_DIR) $(DESTDIR)$(SYSUSERS_DIR)
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	sed 's|/usr/local/bin/|$(PREFIX)/bin/|g' systemd/envpoold.service > $(DESTDIR)$(SYSTEMD_DIR)/envpoold.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_DIR)/envpoold.service
	install -m 0644 systemd/envpoold.socket $(DESTDIR)$(SYSTEMD_DIR)/
	install -m 0644 systemd/envpool.sysusers $(DESTDIR)$(SYSUSERS_DIR)/envpool.conf

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/envpool $(DESTDIR)$(PREFIX)/bin/envpoold
	rm -f $(DESTDIR)$(SYSTEMD_DIR)/envpoold.service $(DESTDIR)$(SYSTEMD_DIR)/envpoold.socket
	rm -f $(DESTDIR)$(SYSUSERS_DIR)/envpool.conf

clean:
	rm -rf build build-san build-fuzz

# What envpool needs, as Debian/Ubuntu package names: the one list (make deps,
# the check before make demo / check / valgrind, .ci/run). DEB_PKGS_BUILD builds
# envpool and runs the demo; DEB_PKGS is everything, with what the tests, the
# fuzzers and make bench use: a new test tool goes there.
DEB_PKGS_BUILD = build-essential pkg-config libuv1-dev libjansson-dev libsystemd-dev
DEB_PKGS       = $(DEB_PKGS_BUILD) libcmocka-dev python3 procps valgrind clang libclang-rt-14-dev \
                 redis-server prometheus
# Without dpkg, the libraries are looked for with pkg-config instead.
PC_MODULES_BUILD = libuv jansson
PC_MODULES       = $(PC_MODULES_BUILD) cmocka

# build-aux/deps.sh installs what is missing when root on Debian/Ubuntu, else stops
# with one line naming the apt-get command.
deps:
	$(Q)DEPS_QUIET=0 DEPS_PKG_CONFIG_MODULES='$(PC_MODULES)' build-aux/deps.sh deps $(DEB_PKGS)
deps-build:
	$(Q)DEPS_PKG_CONFIG_MODULES='$(PC_MODULES_BUILD)' build-aux/deps.sh $(DEPS_FOR) $(DEB_PKGS_BUILD)
deps-all:
	$(Q)DEPS_PKG_CONFIG_MODULES='$(PC_MODULES)' build-aux/deps.sh $(DEPS_FOR) $(DEB_PKGS)
print-deps:
	@echo $(DEB_PKGS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
