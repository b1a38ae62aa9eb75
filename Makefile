# The two commands of the README:
#   make run    install build dependencies, build, run Homing on the quick-start configuration
#   make test   install everything the tests need (PostgreSQL, slapd, Postfix...) and run them all
SWIFT ?= swift

.PHONY: run test build bench clean

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

bench:
	scripts/install-deps.sh build
	$(SWIFT) build -c release --product homing
	bench/run.sh $(CURDIR)/.build/release/homing

clean:
	rm -rf .build run
