# hvsim: `make demo` runs the main job, `make test` runs every test. Both set up a fresh
# Debian 12 machine first (scripts/setup.sh does nothing when everything is there).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all setup build demo test test-sanitize bench clean

all: build

setup:
	@bash scripts/setup.sh

$(BUILD)/CMakeCache.txt: | setup
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: setup $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# AddressSanitizer + UndefinedBehaviorSanitizer build of everything, tests run again there.
test-sanitize: setup
	cmake -S . -B $(BUILD)-asan -DHVSIM_SANITIZE=ON -DHVSIM_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD)-asan -j $(JOBS)
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp ASAN_OPTIONS=detect_leaks=1 \
	  ctest --test-dir $(BUILD)-asan --output-on-failure -j $(JOBS) -LE slow

bench: build
	$(BUILD)/bench/hvsim_bench

clean:
	rm -rf $(BUILD)/CMakeFiles $(BUILD)-asan
