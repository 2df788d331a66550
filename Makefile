# g4: `make demo` runs it, `make test` tests it.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja

.PHONY: all setup build build-asan build-tsan test test-unit test-asan demo fuzz clean

all: build

setup:
	@scripts/setup

build: setup
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release > /dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: setup
	@cmake -S . -B $(BUILD_ASAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DG4_SANITIZE=ON > /dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS) --target g4_tests g4

build-tsan: setup
	@cmake -S . -B $(BUILD_TSAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DG4_TSAN=ON > /dev/null
	@cmake --build $(BUILD_TSAN) -j $(JOBS) --target g4_tests

# Every test: unit and golden tests, CLI tests, the same again under ASan + UBSan, the tests of
# everything that runs on several threads (pool, kernels, engine, server) under ThreadSanitizer,
# then the file parsers' fuzzers for a bounded time.
TSAN_TESTS := ThreadPool*:Engine*:HttpServer*:AnthropicApi*:ChatSession*:*ChatSessionTest*:QGemm*:Attention*:CpuBackend*
test: build build-asan build-tsan
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(BUILD_ASAN) --output-on-failure -j $(JOBS)
	@TSAN_OPTIONS=halt_on_error=1 $(BUILD_TSAN)/g4_tests --gtest_filter='$(TSAN_TESTS)' --gtest_brief=1
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=15

# Runs g4 on the tiny Gemma 4 models the project ships (random weights: they prove the pipeline,
# not the prose). Real weights: g4 chat -m PATH_TO_MODEL
DEMO := $(BUILD)/demo
demo: build
	@mkdir -p $(DEMO)/tiny-a $(DEMO)/tiny-chat
	@cp tests/data/tiny-a/config.json $(DEMO)/tiny-a/
	@test -f $(DEMO)/tiny-a/model.safetensors || xz -dc tests/data/tiny-a/model.safetensors.xz > $(DEMO)/tiny-a/model.safetensors
	@cp tests/data/tiny-chat/config.json $(DEMO)/tiny-chat/
	@test -f $(DEMO)/tiny-chat/model.safetensors || xz -dc tests/data/tiny-chat/model.safetensors.xz > $(DEMO)/tiny-chat/model.safetensors
	@test -f $(DEMO)/tiny-chat/tokenizer.json || xz -dc tests/data/tokenizer/gemma4-tokenizer.json.xz > $(DEMO)/tiny-chat/tokenizer.json
	@echo "== g4 info -m $(DEMO)/tiny-a"
	@$(BUILD)/g4 info -m $(DEMO)/tiny-a
	@echo; echo "== g4 logits -m $(DEMO)/tiny-a --ids 2,17,300,45,999 --top 3"
	@$(BUILD)/g4 logits -m $(DEMO)/tiny-a --ids 2,17,300,45,999 --top 3
	@echo; echo "== g4 tokenize -m $(DEMO)/tiny-chat 'Hello <|turn>world, ünïcödé 🎉'"
	@$(BUILD)/g4 tokenize -m $(DEMO)/tiny-chat 'Hello <|turn>world, ünïcödé 🎉'
	@echo; echo "== g4 template -m $(DEMO)/tiny-chat tests/data/tiny-chat/conversation.json"
	@$(BUILD)/g4 template -m $(DEMO)/tiny-chat tests/data/tiny-chat/conversation.json
	@echo; echo; echo "== g4 chat -m $(DEMO)/tiny-chat --json -n 16 --seed 1 < tests/data/tiny-chat/conversation.json"
	@$(BUILD)/g4 chat -m $(DEMO)/tiny-chat --json -n 16 --seed 1 < tests/data/tiny-chat/conversation.json

# libFuzzer targets (clang), each run for FUZZ_SECONDS.
FUZZ_SECONDS ?= 30
fuzz: setup
	@cmake -S . -B build-fuzz $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DG4_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ > /dev/null
	@cmake --build build-fuzz -j $(JOBS) --target gguf_fuzz safetensors_fuzz response_parser_fuzz
	@for f in gguf_fuzz safetensors_fuzz response_parser_fuzz; do mkdir -p build-fuzz/corpus-$$f; \
	  if build-fuzz/$$f -max_total_time=$(FUZZ_SECONDS) build-fuzz/corpus-$$f > build-fuzz/$$f.log 2>&1; then \
	    echo "fuzz: $$f: $$(grep -oE 'Done [0-9]+ runs' build-fuzz/$$f.log), no crash"; \
	  else tail -40 build-fuzz/$$f.log; echo "fuzz: $$f FAILED"; exit 1; fi; done

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN) build-fuzz
