# mqttspec — plain Makefile.  `make` builds build/mqttspec; `make check` installs
# what is missing and runs every test; see README.md for the other targets.

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc
CFLAGS  ?= -O2 -g

STD   := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN  := -Wall -Wextra -Werror -Wconversion -Wsign-compare -Wshadow -Wstrict-prototypes
SAN   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_CFLAGS = $(STD) $(WARN) $(CFLAGS) -I. -MMD -MP

LIBS       := -lcjson -lwslay -lssl -lcrypto -lpthread -lm
CHECK_LIBS := -lcheck -lsubunit -lrt -lm -lpthread

CODEC_SRC := $(sort $(wildcard codec/*.c))
NET_SRC   := $(sort $(wildcard net/*.c))
CONF_SRC  := $(sort $(wildcard conformance/*.c))
CLI_SRC   := $(sort $(wildcard cli/*.c))
TEST_SRC  := $(sort $(wildcard tests/check_*.c))
SCENARIOS := $(sort $(shell find conformance/scenarios -name '*.json' 2>/dev/null))
GEN_SRC   := $(BUILD)/gen/scenarios_embedded.c

LIB_SRC := $(CODEC_SRC) $(NET_SRC) $(CONF_SRC)

# The live-broker fuzzer (`mqttspec fuzz`, fuzz/live/): part of the binary and of the
# unit tests, unlike the libFuzzer harnesses in fuzz/*.c (fuzz/fuzz.mk).
LIVEFUZZ_SRC := $(sort $(wildcard fuzz/live/*.c))
LIB_SRC += $(LIVEFUZZ_SRC)

obj   = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
aobj  = $(patsubst %.c,$(BUILD)/asan/%.o,$(1))

BIN       := $(BUILD)/mqttspec
BIN_ASAN  := $(BUILD)/asan/mqttspec
CHECK     := $(BUILD)/check_mqttspec
CHECK_ASAN:= $(BUILD)/asan/check_mqttspec
CODEC_LIB := $(BUILD)/libmqscodec.a

.PHONY: all check check-unit check-fuzz check-integration deps demo matrix mutants bench fuzz install clean format
all: $(BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -c $< -o $@

# The list of scenario files, rewritten only when it changes, so that deleting or adding a
# scenario also regenerates the embedded table.
SCEN_LIST := $(BUILD)/gen/scenarios.list
$(shell mkdir -p $(BUILD)/gen && (echo '$(SCENARIOS)' | cmp -s - $(SCEN_LIST) || echo '$(SCENARIOS)' > $(SCEN_LIST)))

$(GEN_SRC): scripts/embed-scenarios.sh $(SCENARIOS) $(SCEN_LIST)
	@mkdir -p $(dir $@)
	sh scripts/embed-scenarios.sh conformance/scenarios > $@.tmp && mv $@.tmp $@

# Statement catalogue compiled in (conformance/catalogue.h), from the TSV files.
CATALOGUE_TSV := conformance/statements-311.tsv conformance/uncovered.tsv
GEN_SRC += $(BUILD)/gen/catalogue_table.c
$(BUILD)/gen/catalogue_table.c: scripts/embed-catalogue.sh $(CATALOGUE_TSV)
	@mkdir -p $(dir $@)
	sh scripts/embed-catalogue.sh $(CATALOGUE_TSV) > $@.tmp && mv $@.tmp $@

$(CODEC_LIB): $(call obj,$(CODEC_SRC))
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(call obj,$(CLI_SRC) $(LIB_SRC) $(GEN_SRC))
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(BIN_ASAN): $(call aobj,$(CLI_SRC) $(LIB_SRC) $(GEN_SRC))
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LIBS)

$(CHECK): $(call obj,$(TEST_SRC) $(LIB_SRC) $(GEN_SRC))
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(LIBS)

$(CHECK_ASAN): $(call aobj,$(TEST_SRC) $(LIB_SRC) $(GEN_SRC))
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(CHECK_LIBS) $(LIBS)

# ---- tests ---------------------------------------------------------------
deps:
	bash scripts/deps.sh

check:
	bash scripts/deps.sh
	$(MAKE) --no-print-directory check-unit
	$(MAKE) --no-print-directory check-fuzz
	$(MAKE) --no-print-directory check-integration
	@echo "make check: all tests passed"

check-unit: $(CHECK) $(CHECK_ASAN) $(BIN) $(BIN_ASAN)
	bash scripts/run-unit.sh $(CHECK)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  bash scripts/run-unit.sh $(CHECK_ASAN)
	bash tests/cli/run.sh $(BIN)
	ASAN_OPTIONS=detect_leaks=1 bash tests/cli/run.sh $(BIN_ASAN)
	ASAN_OPTIONS=detect_leaks=1 bash tests/cli/reports.sh $(BIN) $(BIN_ASAN)

include fuzz/fuzz.mk

check-integration: $(BIN) $(BIN_ASAN)
	bash tests/integration/net.sh $(BIN) $(BIN_ASAN)
	bash tests/integration/run.sh $(BIN) $(BIN_ASAN)

# The whole suite against mosquitto made to break one rule at a time (tests/integration/MUTANTS.md).
mutants: $(BIN) ; bash tests/integration/mutants.sh $(BIN)

# Certify every broker of scripts/brokers/ and write reports/matrix.{md,html}.
matrix: $(BIN)
	bash scripts/matrix.sh $(BIN)

demo: 
	bash scripts/deps.sh
	$(MAKE) --no-print-directory $(BIN)
	bash scripts/demo.sh $(BIN)

bench: $(BUILD)/bench_codec $(BIN)
	$(BUILD)/bench_codec
	bash scripts/bench-livefuzz.sh $(BIN) 10

$(BUILD)/bench_codec: tests/bench/bench_codec.c $(CODEC_LIB)
	$(CC) $(STD) $(WARN) -O2 -g -I. -o $@ $^

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/mqttspec
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/mqttspec
	cp -r conformance/scenarios $(DESTDIR)$(PREFIX)/share/mqttspec/

clean:
	rm -rf $(BUILD)

format:
	clang-format -i $(CODEC_SRC) $(NET_SRC) $(CONF_SRC) $(CLI_SRC) $(TEST_SRC) codec/*.h net/*.h conformance/*.h

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
