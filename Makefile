# The two commands of the README:
#   make run    install build dependencies, build, run Homing on the quick-start configuration
#   make test   install everything the tests need (PostgreSQL, slapd, Postfix...) and run them all,
#               then the unit tests under ThreadSanitizer and every fuzz target briefly (what CI runs)
# Development (README, "Development"):
#   make fuzz           build the libFuzzer targets of Fuzzing/ and run each FUZZ_SECONDS (180)
#   make fuzz-ci        the same, 20 s per target
#   make test-sanitize  the unit and integration tests under ThreadSanitizer, then AddressSanitizer
SWIFT ?= swift
FUZZ_SECONDS ?= 180
export SWIFT

.PHONY: run test build bench clean fuzz fuzz-ci test-sanitize test-tsan test-tsan-unit test-asan

run:
	scripts/install-deps.sh build
	$(SWIFT) build -c release --product homing
	scripts/quickstart.sh $(CURDIR)/.build/release/homing

build:
	scripts/install-deps.sh build
	$(SWIFT) build

test:
	scripts/install-deps.sh test
	$(SWIFT) build --build-tests
	SWIFT=$(SWIFT) scripts/run-tests.sh
	$(MAKE) test-tsan-unit
	$(MAKE) fuzz-ci

fuzz:
	scripts/install-deps.sh build
	FUZZ_SECONDS=$(FUZZ_SECONDS) Fuzzing/run-fuzzers.sh

fuzz-ci:
	$(MAKE) fuzz FUZZ_SECONDS=20

test-sanitize: test-tsan test-asan

# Sanitizer runs (scripts/test-sanitized.sh): any report, from the tests or from a homing
# process they start, fails the run.
test-tsan-unit:
	scripts/install-deps.sh test
	scripts/test-sanitized.sh thread unit

test-tsan:
	scripts/install-deps.sh test
	scripts/test-sanitized.sh thread

test-asan:
	scripts/install-deps.sh test
	scripts/test-sanitized.sh address

bench:
	scripts/install-deps.sh build
	$(SWIFT) build -c release --product homing
	bench/run.sh $(CURDIR)/.build/release/homing

clean:
	rm -rf .build .build-fuzz .build-tsan .build-asan run
