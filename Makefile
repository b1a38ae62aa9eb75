# The two commands of the README:
#   make run    install build dependencies, build, run Homing on the quick-start configuration
#   make test   install everything the tests need (PostgreSQL, slapd, Postfix...) and run them all,
#               then the unit tests under ThreadSanitizer and every fuzz target briefly (what CI runs)
# Installing (README "Install"):
#   make install [PREFIX=/usr/local] [DESTDIR=...]   the self-contained binary, unit, man pages...
#   make deb                                         the same files as a Debian package
# Development (README, "Development"):
#   make fuzz           build the libFuzzer targets of Fuzzing/ and run each FUZZ_SECONDS (180)
#   make fuzz-ci        the same, 20 s per target
#   make bench-micro    the hot-path micro-benchmarks of bench/micro (package-benchmark)
#   make bench-micro-check   their allocation counts against bench/micro/Thresholds (run by make test)
#   make bench-micro-update  store the current counts in bench/micro/Thresholds
#   make test-sanitize  the unit and integration tests under ThreadSanitizer, then AddressSanitizer
SWIFT ?= swift
FUZZ_SECONDS ?= 180
export SWIFT

# Where `make install` puts things. The configuration directory and the unit follow the
# system's conventions rather than PREFIX's: Homing reads /etc/homing/homing.conf by default,
# and systemd looks for units in /usr/local/lib/systemd/system as well as /lib/systemd/system.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
LOGROTATEDIR ?= $(SYSCONFDIR)/logrotate.d
DESTDIR ?=

# The installed build: release, with the Swift runtime and Foundation linked in
# (--static-swift-stdlib), so it runs without the toolchain. A build directory of its own: the
# flags differ from `make run`'s and `make test`'s builds in .build, and a build there would
# wait for a running `swift test`.
RELEASE_BUILD ?= $(CURDIR)/.build-static
STATIC_SWIFT = $(SWIFT) build -c release --static-swift-stdlib --disable-local-rpath --scratch-path $(RELEASE_BUILD)
STATIC_BIN = $(RELEASE_BUILD)/release/homing
MAN_PAGES = $(RELEASE_BUILD)/man
VERSION := $(shell cat VERSION)

.PHONY: run test build bench bench-dovecot clean release man install install-files uninstall deb FORCE \
	fuzz fuzz-ci test-sanitize test-tsan test-tsan-unit test-asan bench-micro bench-micro-check bench-micro-update

run:
	scripts/install-deps.sh build
	$(SWIFT) build -c release --product homing
	scripts/quickstart.sh $(CURDIR)/.build/release/homing

build:
	scripts/install-deps.sh build
	$(SWIFT) build

# The package is built once, before the suite; PackagingTests install it (make install into a
# scratch DESTDIR, dpkg -i of the .deb) and check what they get.
test:
	scripts/install-deps.sh test
	$(SWIFT) build --build-tests
	$(MAKE) deb
	HOMING_RELEASE_BUILD=$(RELEASE_BUILD) SWIFT=$(SWIFT) scripts/run-tests.sh
	$(MAKE) test-tsan-unit
	$(MAKE) fuzz-ci
	$(MAKE) bench-micro-check

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

# Micro-benchmarks of the hot paths (bench/micro, a package of its own).
bench-micro:
	scripts/install-deps.sh build
	cd bench/micro && $(SWIFT) package --allow-writing-to-package-directory benchmark --no-progress

bench-micro-check:
	scripts/install-deps.sh build
	SWIFT=$(SWIFT) bench/micro/check.sh

bench-micro-update:
	scripts/install-deps.sh build
	cd bench/micro && $(SWIFT) package --allow-writing-to-package-directory benchmark thresholds update \
		--metric mallocCountTotal --no-progress

# Homing against Dovecot's LMTP on one generated dovecot.conf (as root; QUICK=1 for a short run).
bench-dovecot:
	scripts/install-deps.sh build
	$(SWIFT) build -c release --product homing
	bench/compare-dovecot.sh --homing $(CURDIR)/.build/release/homing $(if $(QUICK),--quick,)

release: $(STATIC_BIN)

# SwiftPM knows whether the binary is up to date: always ask it (make re-reads the time stamp).
$(STATIC_BIN): FORCE
	scripts/install-deps.sh build
	$(STATIC_SWIFT) --product homing

# homing(8) and a page per subcommand (homing.serve(8), homing.quota.get(8)...), from the
# argument parser's own description of the commands: swift-argument-parser's generate-manual
# tool run on the release binary. (Its `swift package plugin generate-manual` front end first
# rebuilds the whole package in release without --static-swift-stdlib: a second full build,
# 13 minutes on a 2-core machine, that also overwrites the static binary. So the tool is built
# on its own, from the argument parser's checkout, in about a minute.) The date is the
# commit's, so that a rebuild writes the same pages.
GENERATE_MANUAL = $(RELEASE_BUILD)/generate-manual/debug/generate-manual
MAN_DATE := $(shell git log -1 --format=%cs 2>/dev/null || date -u +%F)

man: $(MAN_PAGES)/homing.8

$(GENERATE_MANUAL): | $(STATIC_BIN)
	rm -rf $(RELEASE_BUILD)/generate-manual-source
	mkdir -p $(RELEASE_BUILD)/generate-manual-source
	git -C $(RELEASE_BUILD)/checkouts/swift-argument-parser archive --format=tar HEAD \
	    | tar -x -C $(RELEASE_BUILD)/generate-manual-source
	$(SWIFT) build --package-path $(RELEASE_BUILD)/generate-manual-source \
	    --scratch-path $(RELEASE_BUILD)/generate-manual --product generate-manual

$(MAN_PAGES)/homing.8: $(STATIC_BIN) | $(GENERATE_MANUAL)
	rm -rf $(MAN_PAGES).new
	mkdir -p $(MAN_PAGES).new
	$(GENERATE_MANUAL) $(STATIC_BIN) --multi-page --section 8 --date $(MAN_DATE) \
	    --authors 'Homing maintainers' --output-directory $(MAN_PAGES).new
	rm -rf $(MAN_PAGES)
	mv $(MAN_PAGES).new $(MAN_PAGES)

install: $(STATIC_BIN) man
	@$(MAKE) --no-print-directory install-files

# What install copies, once the binary and the pages are built.
install-files:
	install -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSTEMDUNITDIR) \
	    $(DESTDIR)$(LOGROTATEDIR) $(DESTDIR)$(SYSCONFDIR)/homing
	install -m 0755 $(STATIC_BIN) $(DESTDIR)$(SBINDIR)/homing
	install -m 0644 $(MAN_PAGES)/*.8 $(DESTDIR)$(MANDIR)/man8/
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' packaging/homing.service.in \
	    > $(DESTDIR)$(SYSTEMDUNITDIR)/homing.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/homing.service
	install -m 0644 packaging/homing.logrotate $(DESTDIR)$(LOGROTATEDIR)/homing
	@# An existing configuration is the administrator's: never replaced.
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/homing/homing.conf ]; then \
	    echo "$(DESTDIR)$(SYSCONFDIR)/homing/homing.conf exists: kept (the example is packaging/homing.conf)"; \
	else \
	    echo "install -m 0644 packaging/homing.conf $(DESTDIR)$(SYSCONFDIR)/homing/homing.conf"; \
	    install -m 0644 packaging/homing.conf $(DESTDIR)$(SYSCONFDIR)/homing/homing.conf; \
	fi

# Everything install put there except the configuration (yours now).
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/homing $(DESTDIR)$(SYSTEMDUNITDIR)/homing.service \
	    $(DESTDIR)$(LOGROTATEDIR)/homing $(DESTDIR)$(MANDIR)/man8/homing.8 $(DESTDIR)$(MANDIR)/man8/homing.*.8

# The Debian package: the files of `make install` for /usr, built with dpkg-deb.
deb: $(STATIC_BIN) man
	rm -rf $(RELEASE_BUILD)/deb-root
	$(MAKE) --no-print-directory install-files DESTDIR=$(RELEASE_BUILD)/deb-root PREFIX=/usr \
	    SYSCONFDIR=/etc SYSTEMDUNITDIR=/lib/systemd/system
	scripts/build-deb.sh $(RELEASE_BUILD)/deb-root $(RELEASE_BUILD)

clean:
	rm -rf .build .build-fuzz .build-tsan .build-asan bench/micro/.build $(RELEASE_BUILD) run

FORCE:
