# Fuzzing targets, included by the Makefile (see README "Fuzzing").
#
#   make fuzz                     libFuzzer harnesses -> build/fuzz/<target>
#   make fuzz-run TARGET=decode SECONDS=60 [FORK=N|JOBS=N] [FUZZ_ARGS=...]
#   make fuzz-merge [TARGET=decode]   minimise into corpus/<target>/
#   make fuzz-corpus              seeds from tests/vectors + scenarios -> build/fuzz/seeds/
#   make fuzz-coverage            codec line/branch coverage reached by the corpora
#   make fuzz-replay-bins         gcc + ASan/UBSan replay binaries -> build/fuzz/replay/<target>
#   make check-fuzz               replay every corpus under sanitizers, then a short
#                                 libFuzzer run of each harness (FUZZ_CHECK_SECONDS each)
#
# A harness is fuzz/fuzz_<target>.c defining LLVMFuzzerTestOneInput; it is
# picked up by wildcard. Harnesses listed in FUZZ_FULL_TARGETS link the whole
# library (codec, net, conformance and cJSON); fuzz_noop links nothing; the
# rest link the codec only.

FUZZ_CC            ?= clang
LLVM_PROFDATA      ?= llvm-profdata
LLVM_COV           ?= llvm-cov
PYTHON             ?= python3
FUZZ_CHECK_SECONDS ?= 20
SECONDS            ?= 60
TARGET             ?= decode

FUZZ_DIR          := $(BUILD)/fuzz
FUZZ_TARGETS      := $(patsubst fuzz/fuzz_%.c,%,$(sort $(wildcard fuzz/fuzz_*.c)))
FUZZ_FULL_TARGETS := scenario broker_reply
FUZZ_CODEC_TARGETS = $(filter-out noop $(FUZZ_FULL_TARGETS),$(FUZZ_TARGETS))
FUZZ_MERGE_TARGETS = $(if $(filter command line,$(origin TARGET)),$(TARGET),$(filter-out noop,$(FUZZ_TARGETS)))

FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_LF    := -fsanitize=fuzzer-no-link $(FUZZ_SAN)
FUZZ_COVF  := -fprofile-instr-generate -fcoverage-mapping

fuzz_srcs = $(if $(filter noop,$(1)),,$(if $(filter $(FUZZ_FULL_TARGETS),$(1)),$(LIB_SRC) $(GEN_SRC),$(CODEC_SRC)))
fuzz_libs = $(if $(filter $(FUZZ_FULL_TARGETS),$(1)),$(LIBS))
fobj = $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(1))
robj = $(patsubst %.c,$(FUZZ_DIR)/replay-obj/%.o,$(1))
cobj = $(patsubst %.c,$(FUZZ_DIR)/cov-obj/%.o,$(1))

# The codec and the harnesses must build warning-free under clang too; the rest of
# the library is gcc-checked by the main build, so clang's extra warnings there
# (e.g. -Wsign-conversion under -Wconversion) stay warnings.
FUZZ_LAX := -Wno-error
$(FUZZ_DIR)/obj/net/%.o $(FUZZ_DIR)/obj/conformance/%.o $(FUZZ_DIR)/obj/build/%.o: FUZZ_XFLAGS = $(FUZZ_LAX)
$(FUZZ_DIR)/cov-obj/net/%.o $(FUZZ_DIR)/cov-obj/conformance/%.o $(FUZZ_DIR)/cov-obj/build/%.o: FUZZ_XFLAGS = $(FUZZ_LAX)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CFLAGS) -O1 -g $(FUZZ_LF) $(FUZZ_XFLAGS) -c $< -o $@

$(FUZZ_DIR)/replay-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 -g $(FUZZ_SAN) -c $< -o $@

$(FUZZ_DIR)/cov-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CFLAGS) -O0 -g $(FUZZ_COVF) $(FUZZ_XFLAGS) -c $< -o $@

# One libFuzzer binary, one replay binary and one coverage binary per harness.
define MQS_FUZZ_TARGET
$(FUZZ_DIR)/$(1): $(call fobj,fuzz/fuzz_$(1).c $(call fuzz_srcs,$(1)))
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $$@ $$^ $(call fuzz_libs,$(1))
$(FUZZ_DIR)/replay/$(1): $(call robj,fuzz/fuzz_$(1).c fuzz/replay_main.c $(call fuzz_srcs,$(1)))
	@mkdir -p $$(dir $$@)
	$(CC) $(FUZZ_SAN) -o $$@ $$^ $(call fuzz_libs,$(1))
$(FUZZ_DIR)/cov/$(1): $(call cobj,fuzz/fuzz_$(1).c fuzz/replay_main.c $(call fuzz_srcs,$(1)))
	@mkdir -p $$(dir $$@)
	$(FUZZ_CC) $(FUZZ_COVF) -o $$@ $$^ $(call fuzz_libs,$(1))
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call MQS_FUZZ_TARGET,$(t))))

.PHONY: fuzz fuzz-run fuzz-merge fuzz-corpus fuzz-coverage fuzz-replay-bins fuzz-gen-src

# For fuzz/build.sh: generates the sources the library needs and prints their paths.
fuzz-gen-src: $(GEN_SRC)
	@echo $(GEN_SRC)

fuzz: $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))

fuzz-replay-bins: $(addprefix $(FUZZ_DIR)/replay/,$(FUZZ_TARGETS))

fuzz-corpus:
	$(PYTHON) fuzz/gen_corpus.py --out $(FUZZ_DIR)/seeds

fuzz-run: $(FUZZ_DIR)/$(TARGET)
	BUILD=$(BUILD) bash fuzz/run.sh $(TARGET) $(SECONDS) $(FUZZ_ARGS)

# Minimises checked-in corpus + generated seeds + local finds into corpus/<target>/,
# files renamed to the SHA-256 of their content.
fuzz-merge: $(addprefix $(FUZZ_DIR)/,$(FUZZ_MERGE_TARGETS)) fuzz-corpus
	@set -e; for t in $(FUZZ_MERGE_TARGETS); do \
	  out=$(FUZZ_DIR)/merge-$$t; rm -rf $$out; mkdir -p $$out corpus/$$t; \
	  ins=; for d in corpus/$$t $(FUZZ_DIR)/seeds/$$t $(FUZZ_DIR)/corpus-$$t; do \
	    [ -d $$d ] && ins="$$ins $$d"; done; \
	  $(FUZZ_DIR)/$$t -merge=1 -dict=corpus/mqtt.dict $$out $$ins 2>$(FUZZ_DIR)/merge-$$t.log \
	    || { tail -n 20 $(FUZZ_DIR)/merge-$$t.log; exit 1; }; \
	  $(PYTHON) fuzz/gen_corpus.py --replace corpus/$$t $$out; \
	  echo "fuzz-merge: corpus/$$t: $$(ls corpus/$$t | wc -l) files"; \
	done

# Coverage of codec/ reached by replaying the checked-in corpora (plus the local
# finds in build/fuzz/corpus-<target>/ with COV_LOCAL=1).
FUZZ_COV_TARGETS = $(filter-out noop,$(FUZZ_TARGETS))
fuzz-coverage: $(addprefix $(FUZZ_DIR)/cov/,$(FUZZ_COV_TARGETS)) fuzz-corpus
	@rm -rf $(FUZZ_DIR)/coverage && mkdir -p $(FUZZ_DIR)/coverage
	@set -e; for t in $(FUZZ_COV_TARGETS); do \
	  dirs=; for d in corpus/$$t $(FUZZ_DIR)/seeds/$$t $(if $(COV_LOCAL),$(FUZZ_DIR)/corpus-$$t); do \
	    [ -d $$d ] && dirs="$$dirs $$d"; done; \
	  [ -n "$$dirs" ] || continue; \
	  LLVM_PROFILE_FILE=$(FUZZ_DIR)/coverage/$$t.profraw $(FUZZ_DIR)/cov/$$t $$dirs; \
	done
	$(LLVM_PROFDATA) merge -sparse $(FUZZ_DIR)/coverage/*.profraw -o $(FUZZ_DIR)/coverage/all.profdata
	$(LLVM_COV) report -instr-profile=$(FUZZ_DIR)/coverage/all.profdata \
	  $(firstword $(addprefix $(FUZZ_DIR)/cov/,$(FUZZ_COV_TARGETS))) \
	  $(addprefix -object=,$(wordlist 2,99,$(addprefix $(FUZZ_DIR)/cov/,$(FUZZ_COV_TARGETS)))) \
	  $(CODEC_SRC) 2>$(FUZZ_DIR)/coverage/llvm-cov.log | tee $(FUZZ_DIR)/coverage/report.txt
	@$(LLVM_COV) show -format=html -output-dir=$(FUZZ_DIR)/coverage/html \
	  -instr-profile=$(FUZZ_DIR)/coverage/all.profdata \
	  $(firstword $(addprefix $(FUZZ_DIR)/cov/,$(FUZZ_COV_TARGETS))) \
	  $(addprefix -object=,$(wordlist 2,99,$(addprefix $(FUZZ_DIR)/cov/,$(FUZZ_COV_TARGETS)))) \
	  $(CODEC_SRC) 2>>$(FUZZ_DIR)/coverage/llvm-cov.log
	@echo "fuzz-coverage: line-by-line view in $(FUZZ_DIR)/coverage/html/index.html"

# The regression run of `make check`: every harness under gcc + ASan/UBSan over
# its checked-in corpus and the generated seeds, then FUZZ_CHECK_SECONDS of real
# libFuzzer per harness; a crash fails and leaves its reproducer in
# build/fuzz/artifacts/<target>/.
check-fuzz: fuzz-replay-bins fuzz fuzz-corpus
	@set -e; for t in $(FUZZ_TARGETS); do \
	  dirs=; for d in corpus/$$t $(FUZZ_DIR)/seeds/$$t; do [ -d $$d ] && dirs="$$dirs $$d"; done; \
	  if [ -z "$$dirs" ]; then [ $$t = noop ] && continue; \
	    echo "check-fuzz: $$t has no corpus" >&2; exit 1; fi; \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(FUZZ_DIR)/replay/$$t $$dirs; \
	done
	@set -e; for t in $(FUZZ_TARGETS); do \
	  BUILD=$(BUILD) bash fuzz/run.sh $$t $(FUZZ_CHECK_SECONDS) > $(FUZZ_DIR)/check-$$t.log 2>&1 \
	    || { tail -n 40 $(FUZZ_DIR)/check-$$t.log; echo "check-fuzz: $$t failed (log $(FUZZ_DIR)/check-$$t.log)" >&2; exit 1; }; \
	  echo "check-fuzz: $$t: $$(grep -E '^stat::number_of_executed_units' $(FUZZ_DIR)/check-$$t.log | awk '{print $$2}') execs in $(FUZZ_CHECK_SECONDS) s, no finding"; \
	done
