# bertqa: extractive question answering with BERT inside PostgreSQL.
#
# Builds the extension (bertqa.so) and the command-line tool (./bertqa) from
# one core library in src/core that has no PostgreSQL dependency.

# 'make' alone builds everything ('all', from PGXS and below), not the first
# rule that happens to come before PGXS's.
.DEFAULT_GOAL := all

EXTENSION = bertqa
MODULE_big = bertqa
DATA = $(wildcard sql/bertqa--*.sql)
REGRESS = $(patsubst sql/%.sql,%,$(filter-out sql/bertqa--%,$(wildcard sql/*.sql)))

# The core, by concern: text (vocabularies, tokenizers), model (weight files
# and configurations), compute (the forward pass), squad (windows,
# post-processing, datasets, scoring), util.  Headers are included by name.
CORE_DIRS = $(patsubst %/,%,$(wildcard src/core/*/))
CORE_SRCS = $(wildcard src/core/*/*.c)
# The one C++ file: the shim over the SentencePiece library, which has no C API.
CORE_CXX_SRCS = $(wildcard src/core/*/*.cpp)
PG_SRCS = $(wildcard src/pg/*.c)
CLI_SRCS = $(wildcard src/cli/*.c)
CORE_CXX_OBJS = $(CORE_CXX_SRCS:.cpp=.o)
CORE_OBJS = $(CORE_SRCS:.c=.o) $(CORE_CXX_OBJS)
CLI_OBJS = $(CLI_SRCS:.c=.o)
OBJS = $(CORE_OBJS) $(PG_SRCS:.c=.o)

DEPS_PKGS = icu-uc icu-i18n json-c libarchive yaml-0.1
# -MMD -MP: every object records the headers it read, so that changing a
# header (a struct's layout) rebuilds everything that uses it.
PG_CPPFLAGS = $(addprefix -I,$(CORE_DIRS)) $(shell pkg-config --cflags $(DEPS_PKGS)) -MMD -MP
# oneDNN (Debian libdnnl-dev) has no pkg-config file; it runs on OpenMP (libgomp).
# SentencePiece's pkg-config file also names its trainer, which bertqa does not use.
SHLIB_LINK = $(shell pkg-config --libs $(DEPS_PKGS)) -lsentencepiece -lstdc++ -ldnnl -fopenmp \
	-ldl -lm -lpthread
EXTRA_CLEAN = bertqa $(CLI_OBJS) test/unit/*.o test/unit/*.d src/*/*.d src/core/*/*.d $(UNIT_TESTS) \
	results regression.diffs regression.out

# The core is plain C11 (with OpenMP loops); PostgreSQL's warning flags stay on for it.
$(CORE_OBJS) $(CLI_OBJS): CFLAGS += -std=c11 -D_POSIX_C_SOURCE=200809L -Wno-declaration-after-statement
$(CORE_OBJS): CFLAGS += -fopenmp

$(CORE_CXX_OBJS): %.o: %.cpp
	$(CXX) $(CXXFLAGS) -std=c++17 $(CPPFLAGS) -c -o $@ $<

# The CLI's default model is the bundled one, as installed by 'make install'.
$(CLI_OBJS): CPPFLAGS += -DBQ_BUNDLED_MODEL_DIR='"$(datadir)/extension/bertqa/tiny-model"'

# No LLVM bitcode: JIT inlining of this code buys nothing.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

-include $(wildcard src/*/*.d src/core/*/*.d test/unit/*.d)

# ---- the command-line tool -------------------------------------------------

all: bertqa

bertqa: $(CORE_OBJS) $(CLI_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(SHLIB_LINK)

# ---- the bundled model and the CLI are installed with the extension ----------

BUNDLED_MODEL = test/fixtures/tiny-model
MODEL_DIR = $(datadir)/extension/bertqa/tiny-model

install: install-bertqa-extras

install-bertqa-extras: bertqa
	$(MKDIR_P) '$(DESTDIR)$(bindir)' '$(DESTDIR)$(MODEL_DIR)'
	$(INSTALL_PROGRAM) bertqa '$(DESTDIR)$(bindir)/bertqa'
	$(INSTALL_DATA) $(BUNDLED_MODEL)/config.json $(BUNDLED_MODEL)/vocab.txt \
		$(BUNDLED_MODEL)/model.safetensors '$(DESTDIR)$(MODEL_DIR)/'

uninstall: uninstall-bertqa-extras

uninstall-bertqa-extras:
	rm -f '$(DESTDIR)$(bindir)/bertqa'
	rm -rf '$(DESTDIR)$(datadir)/extension/bertqa'

# ---- tests -------------------------------------------------------------------

UNIT_SRCS = $(wildcard test/unit/test_*.c)
UNIT_TESTS = $(UNIT_SRCS:.c=)

$(UNIT_TESTS): %: %.c $(wildcard test/unit/*.h) $(CORE_OBJS)
	$(CC) $(CFLAGS) -std=c11 -D_POSIX_C_SOURCE=200809L -Wno-declaration-after-statement \
		$(PG_CPPFLAGS) -Itest/unit -o $@ $< $(CORE_OBJS) $(LDFLAGS) $(SHLIB_LINK)

unit-tests: $(UNIT_TESTS)

# Every test: C unit tests, parity against the fixtures, then pg_regress
# against a throwaway cluster.  See test/run.
test: all unit-tests
	test/run

.PHONY: install-bertqa-extras uninstall-bertqa-extras unit-tests test

# The same tests on other Debian releases, each in a chroot with its own
# PostgreSQL and libraries (root only; see test/debian/run).
test-debian13:
	test/debian/run trixie

test-debian-sid:
	test/debian/run sid

.PHONY: test-debian13 test-debian-sid

# bertqa on a Citus cluster (test/citus/run): a coordinator and two workers
# with the Citus installed for this PostgreSQL; fails when there is none.
test-citus: all
	BERTQA_REQUIRE_CITUS=1 test/citus/run

.PHONY: test-citus

# ---- fuzzing -----------------------------------------------------------------
# libFuzzer targets (test/fuzz/fuzz_*.c) linked against the core rebuilt
# with clang, AddressSanitizer and UndefinedBehaviorSanitizer in
# test/fuzz/build.  'make fuzz-smoke' runs each for FUZZ_SECONDS.

FUZZ_CC = clang
FUZZ_CXX = clang++
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined -std=c11 -D_POSIX_C_SOURCE=200809L -D_GNU_SOURCE \
	-Wall -Wno-unused-parameter $(PG_CPPFLAGS)
FUZZ_BUILD = test/fuzz/build
# The parsers; not the encoder and what runs it (OpenMP, oneDNN).
FUZZ_CORE_SRCS = $(filter-out $(addprefix src/core/,compute/compute.c compute/encoder.c \
	compute/onednn.c compute/packed_weights.c squad/qa.c),$(CORE_SRCS))
FUZZ_CORE_OBJS = $(patsubst src/core/%.c,$(FUZZ_BUILD)/core/%.o,$(FUZZ_CORE_SRCS)) \
	$(patsubst src/core/%.cpp,$(FUZZ_BUILD)/core/%.o,$(CORE_CXX_SRCS))
FUZZ_TARGETS = $(patsubst test/fuzz/%.c,$(FUZZ_BUILD)/%,$(wildcard test/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60
EXTRA_CLEAN += $(FUZZ_BUILD)

$(FUZZ_BUILD)/core/%.o: src/core/%.c src/core/*/*.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/core/%.o: src/core/%.cpp src/core/*/*.h
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(filter-out -std=c11,$(FUZZ_CFLAGS)) -std=c++17 -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%.o: test/fuzz/fuzz_%.c test/fuzz/fuzz.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

# Linked by clang++ for the C++ runtime of UBSan's checks in the SentencePiece shim.
$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/fuzz_%.o $(FUZZ_CORE_OBJS)
	$(FUZZ_CXX) $(filter-out -std=c11,$(FUZZ_CFLAGS)) -fsanitize=fuzzer -o $@ $< $(FUZZ_CORE_OBJS) \
		$(shell pkg-config --libs $(DEPS_PKGS)) -lsentencepiece -lstdc++ -ldl -lm -lpthread

fuzz: $(FUZZ_TARGETS)

fuzz-smoke: fuzz
	test/fuzz/run_fuzzers $(FUZZ_SECONDS) $(FUZZ_TARGETS)

.PHONY: fuzz fuzz-smoke
