# pushcgi: one entry point. `make` builds everything into build/, `make test` builds and runs
# every test. V=1 shows the commands.

BUILD    ?= build
PREFIX   ?= /usr/local
# The library and its pkg-config files; the Debian packages use the multiarch directory.
LIBDIR   ?= $(PREFIX)/lib
DESTDIR  ?=
VERSION  := 0.1.0

CXX      ?= g++
CXXFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wpedantic -Wshadow -Wconversion
# CI treats every warning as an error; so does WERROR=1.
ifneq ($(CI)$(WERROR),)
WARNINGS += -Werror
endif
ifneq ($(SANITIZE),)
CXXFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SANITIZE)
LDFLAGS  += -fsanitize=$(SANITIZE)
endif

ALL_CXXFLAGS := -std=c++17 $(WARNINGS) $(CXXFLAGS) -pthread
ALL_CPPFLAGS := -Ilib/include -MMD -MP $(CPPFLAGS)
LIBS         := -lfcgi -lturbojpeg -pthread
# libcurl and hiredis, for the http(s) and redis frame sources: linked only into what uses
# them (below; ps.fcgi hiredis alone), so that the examples load neither and ps.fcgi not
# libcurl and what it brings (a sanitizer build links every library named, needed or not).
# -lcurl rather than pkg-config's answer: this line is read before tools/packages installs it.
REDIS_LIBS   := -lhiredis
SOURCE_LIBS  := -lcurl $(REDIS_LIBS)
TEST_LIBS    := -lgtest -lgtest_main

ifeq ($(V),1)
Q :=
else
Q := @
endif

# The toolkit, in folders by layer (lib/src/base, framing, runtime, fanout, sources).
LIB_SRCS   := $(wildcard lib/src/*/*.cpp)
LIB_OBJS   := $(LIB_SRCS:%.cpp=$(BUILD)/obj/%.o)
LIB        := $(BUILD)/libpushcgi.a

# Each program is cgi/<name>/: main.cpp and its own code, which goes into build/cgi/<name>.a
# so that the tests and benchmarks can link it too.
PROGRAMS         := $(patsubst cgi/%/main.cpp,%,$(wildcard cgi/*/main.cpp))
CGI_SRCS         := $(wildcard cgi/*/*.cpp)
PROGRAM_SRCS     := $(filter-out %/main.cpp,$(CGI_SRCS))
PROGRAM_ARCHIVES := $(PROGRAMS:%=$(BUILD)/cgi/%.a)
PROGRAM_INCLUDES := $(PROGRAMS:%=-Icgi/%)
CGI_BINS         := $(PROGRAMS:%=$(BUILD)/bin/%.fcgi)
EXAMPLE_SRCS := $(wildcard examples/*.cpp)
EXAMPLE_BINS := $(EXAMPLE_SRCS:examples/%.cpp=$(BUILD)/bin/%)

SUPPORT_SRCS := $(wildcard tests/support/*.cpp)
SUPPORT_OBJS := $(SUPPORT_SRCS:%.cpp=$(BUILD)/obj/%.o)
UNIT_SRCS    := $(wildcard tests/unit/*.cpp)
UNIT_OBJS    := $(UNIT_SRCS:%.cpp=$(BUILD)/obj/%.o)
INTEG_SRCS   := $(wildcard tests/integration/*.cpp)
INTEG_OBJS   := $(INTEG_SRCS:%.cpp=$(BUILD)/obj/%.o)
HELPER_SRCS  := $(wildcard tests/helpers/*.cpp)
HELPER_BINS  := $(HELPER_SRCS:tests/helpers/%.cpp=$(BUILD)/tests/%)
# libFuzzer harnesses, built with clang (rules below).
FUZZ_BUILD    := build/fuzz
CLANGXX       ?= clang++-14
FUZZ_FLAGS    := -std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
                 -fno-sanitize-recover=undefined -pthread
FUZZ_SRCS     := $(wildcard tests/fuzz/*_fuzz.cpp)
FUZZ_BINS     := $(FUZZ_SRCS:tests/fuzz/%.cpp=$(FUZZ_BUILD)/%)
FUZZ_OBJS     := $(LIB_SRCS:%.cpp=$(FUZZ_BUILD)/obj/%.o) $(PROGRAM_SRCS:%.cpp=$(FUZZ_BUILD)/obj/%.o) \
                 $(FUZZ_SRCS:%.cpp=$(FUZZ_BUILD)/obj/%.o)
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_SECONDS  ?= 120

E2E_SRCS     := $(wildcard tests/e2e/*.cpp)
E2E_OBJS     := $(E2E_SRCS:%.cpp=$(BUILD)/obj/%.o)
E2E_TESTS    := $(BUILD)/tests/e2e_tests
UNIT_TESTS   := $(BUILD)/tests/unit_tests
INTEG_TESTS  := $(BUILD)/tests/integration_tests

DEPS := $(E2E_OBJS:.o=.d) $(HELPER_SRCS:%.cpp=$(BUILD)/obj/%.d) $(LIB_OBJS:.o=.d) $(SUPPORT_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(INTEG_OBJS:.o=.d) \
        $(CGI_SRCS:%.cpp=$(BUILD)/obj/%.d) $(EXAMPLE_SRCS:%.cpp=$(BUILD)/obj/%.d)

.PHONY: all test unit-test integration-test install install-check asan tsan format \
        format-check clean run e2e-test browser-test soak fuzz packages deb deb-version-check \
        package-test
.DELETE_ON_ERROR:
.SECONDARY:

all: $(LIB) $(CGI_BINS) $(EXAMPLE_BINS)

# Debian packages from the one list in tools/packages, by purpose, for the goals asked for
# (or FOR=goals): whatever is missing is installed in one apt-get (as root; otherwise the one
# line to run is printed) before anything is compiled. `make packages FOR=run` installs
# what `make run` needs.
needs = build $(if $(filter run,$1),run) \
        $(if $(filter test asan tsan unit-test integration-test e2e-test browser-test soak \
                      %_tests,$1),test fuzz) \
        $(if $(filter fuzz $(FUZZ_BUILD)/%,$1),fuzz) $(if $(filter bench,$1),bench) \
        $(if $(filter format format-check,$1),format) \
        $(if $(filter deb package-test,$1),deb) $(if $(filter package-test,$1),debtest)
packages:
	$(Q)tools/ensure-packages $(shell tools/ensure-packages --entries \
	                              $(call needs,$(or $(FOR),$(MAKECMDGOALS))))

$(BUILD)/obj/%.o: %.cpp | packages
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CXX     $<")
	$(Q)$(CXX) $(ALL_CPPFLAGS) $(ALL_CXXFLAGS) -c $< -o $@

# Inside the library, a header private to it is named from lib/src ("runtime/io.hpp").
$(LIB_OBJS): ALL_CPPFLAGS += -Ilib/src
# The version (--version, /metrics, the http(s) source's User-Agent), built again when the
# Makefile, and so perhaps VERSION, changes.
$(BUILD)/obj/lib/src/base/version.o: ALL_CPPFLAGS += -DPUSHCGI_VERSION='"$(VERSION)"'
$(BUILD)/obj/lib/src/base/version.o: Makefile
# A program's own headers sit beside its sources; process_table.cpp uses runtime/proc_files.hpp.
$(CGI_SRCS:%.cpp=$(BUILD)/obj/%.o): ALL_CPPFLAGS += -Ilib/src

$(LIB): $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

define program_archive
$(BUILD)/cgi/$1.a: $(patsubst %.cpp,$(BUILD)/obj/%.o,$(filter cgi/$1/%,$(PROGRAM_SRCS)))
endef
$(foreach program,$(PROGRAMS),$(eval $(call program_archive,$(program))))
$(PROGRAM_ARCHIVES):
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/%.fcgi: $(BUILD)/obj/cgi/%/main.o $(BUILD)/cgi/%.a $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CXX) $(ALL_CXXFLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

$(BUILD)/bin/%: $(BUILD)/obj/examples/%.o $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CXX) $(ALL_CXXFLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

# What uses the frame sources (make_source) links libcurl too ("private": not what is built
# on the way, such as ps.fcgi for the integration tests).
$(BUILD)/bin/webcam.fcgi $(HELPER_BINS) $(UNIT_TESTS) $(INTEG_TESTS) $(E2E_TESTS) $(FUZZ_BINS): \
    private LIBS += $(SOURCE_LIBS)
# ps.fcgi takes its snapshots from Redis too (--source redis://, --publish): hiredis only.
$(BUILD)/bin/ps.fcgi: private LIBS += $(REDIS_LIBS)

# Tests find the programs through this path.
$(SUPPORT_OBJS): ALL_CPPFLAGS += -Ilib/src -Itests -DPUSHCGI_BIN_DIR='"$(abspath $(BUILD)/bin)"' \
                                 -DPUSHCGI_TEST_BIN_DIR='"$(abspath $(BUILD)/tests)"'
$(UNIT_OBJS) $(INTEG_OBJS) $(E2E_OBJS): ALL_CPPFLAGS += -Ilib/src $(PROGRAM_INCLUDES) -Itests \
                                          -DPUSHCGI_SOURCE_DIR='"$(abspath .)"'

# Small programs the tests run (a stand-in camera program).
$(BUILD)/tests/%: $(BUILD)/obj/tests/helpers/%.o $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CXX) $(ALL_CXXFLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

$(UNIT_TESTS): $(UNIT_OBJS) $(SUPPORT_OBJS) $(PROGRAM_ARCHIVES) $(LIB) | $(HELPER_BINS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CXX) $(ALL_CXXFLAGS) $(LDFLAGS) $^ $(TEST_LIBS) $(LIBS) -o $@

$(INTEG_TESTS): $(INTEG_OBJS) $(SUPPORT_OBJS) $(PROGRAM_ARCHIVES) $(LIB) | $(CGI_BINS) $(EXAMPLE_BINS) $(HELPER_BINS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CXX) $(ALL_CXXFLAGS) $(LDFLAGS) $^ $(TEST_LIBS) $(LIBS) -o $@

# End-to-end tests: the programs behind real web servers (tools/dev-stack).
$(E2E_TESTS): $(E2E_OBJS) $(SUPPORT_OBJS) $(LIB) | $(CGI_BINS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CXX) $(ALL_CXXFLAGS) $(LDFLAGS) $^ $(TEST_LIBS) $(LIBS) -o $@

# The fuzz harnesses carry their own ASan and UBSan, so the sanitizer runs skip them.
test: all $(UNIT_TESTS) $(INTEG_TESTS) $(E2E_TESTS) install-check $(if $(SANITIZE),,$(FUZZ_BINS)) \
      | packages
	$(Q)tests/run_tests.sh $(UNIT_TESTS) $(INTEG_TESTS) $(E2E_TESTS)
	$(Q)PUSHCGI_BIN=$(abspath $(BUILD)/bin) tests/browser/run.sh
	$(if $(SANITIZE),,$(Q)tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_BUILD))

# The browser matrix (Debian's Chromium, Firefox ESR and WebKitGTK under Xvfb) against the
# demo behind nginx; screenshots in build/screenshots (PUSHCGI_SCREENSHOTS=docs/screenshots
# to refresh the README's).
browser-test: all | packages
	$(Q)PUSHCGI_BIN=$(abspath $(BUILD)/bin) tests/browser/run.sh

e2e-test: all $(E2E_TESTS)
	$(Q)tests/run_tests.sh $(E2E_TESTS)

# The fault tests at length: 10,000 viewers arriving and leaving through nginx (make test
# runs 500), a never-reading viewer until the web servers' timeouts end it, a program killed
# and restarted; prints the figures (descriptors, threads, RSS before and after).
SOAK_CYCLES ?= 10000
soak: all $(E2E_TESTS)
	$(Q)PUSHCGI_CYCLES=$(SOAK_CYCLES) $(E2E_TESTS) --gtest_filter='Faults.*:*KilledProgram*:IdleStreams.*'

# libFuzzer harnesses (tests/fuzz) built with Debian's clang, with ASan and UBSan: a short
# run of each in `make test`, FUZZ_SECONDS each in `make fuzz`.
$(FUZZ_BUILD)/obj/%.o: %.cpp | packages
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCXX $<")
	$(Q)$(CLANGXX) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -Ilib/include -Ilib/src \
	  $(PROGRAM_INCLUDES) -MMD -MP -c $< -o $@

$(FUZZ_BINS): $(FUZZ_BUILD)/%: $(FUZZ_BUILD)/obj/tests/fuzz/%.o \
              $(LIB_SRCS:%.cpp=$(FUZZ_BUILD)/obj/%.o) $(PROGRAM_SRCS:%.cpp=$(FUZZ_BUILD)/obj/%.o)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CLANGXX) $(FUZZ_FLAGS) -fsanitize=fuzzer $^ $(LIBS) -o $@

fuzz: $(FUZZ_BINS)
	$(Q)tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BUILD)

unit-test: $(UNIT_TESTS)
	$(Q)tests/run_tests.sh $(UNIT_TESTS)

integration-test: all $(INTEG_TESTS)
	$(Q)tests/run_tests.sh $(INTEG_TESTS)

# The demo behind a real nginx on http://127.0.0.1:$(PORT)/ (HTTP/1.1) and
# https://127.0.0.1:$(TLS_PORT)/ (HTTP/2, a self-signed certificate kept in build/run/tls);
# Ctrl-C stops everything. webcam.fcgi runs twelve test cameras of several sizes and rates,
# /webcam/ is their wall with the live process list beside them.
PORT ?= 8080
TLS_PORT ?= 8443
DEMO_FPS := 1 2 3 4 5 6 8 10 12 15 20 25
DEMO_WEBCAM_OPTIONS ?= --wall-panel /ps/?top=12 \
  $(foreach i,$(shell seq 12),--source cam$(i)=testcard --fps cam$(i)=$(word $(i),$(DEMO_FPS)) \
    --size cam$(i)=$(if $(filter 1 6,$(i)),640x480,320x240))
run: all | packages
	@echo "pushcgi demo: http://127.0.0.1:$(PORT)/ (HTTP/1.1) and https://127.0.0.1:$(TLS_PORT)/ (HTTP/2)"
	@echo "  the HTTPS certificate is self-signed: the browser warns once (README.md)   Ctrl-C stops everything"
	$(Q)PUSHCGI_TLS_PORT=$(TLS_PORT) WEBCAM_OPTIONS="$(DEMO_WEBCAM_OPTIONS)" tools/dev-stack build/run $(PORT)

# Sanitizer builds live beside the normal one and run the whole suite.
asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan SANITIZE=address,undefined test
tsan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/tsan SANITIZE=thread test

# The toolkit only: its public headers, the library and its pkg-config files (written for
# this PREFIX at each install). pushcgi.pc serves every program; pushcgi-jpeg.pc adds
# libturbojpeg and libcurl for those that use the JPEG checks or the frame sources (the
# http(s) source), so that a program pushing text needs neither. The programs in cgi/ are not installed: they run from
# build/bin (docs/DEPLOY.md).
PC_NAMES := pushcgi pushcgi-jpeg
install: $(LIB)
	install -d $(DESTDIR)$(PREFIX)/include/pushcgi/sources $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 644 lib/include/pushcgi/*.hpp $(DESTDIR)$(PREFIX)/include/pushcgi/
	install -m 644 lib/include/pushcgi/sources/*.hpp $(DESTDIR)$(PREFIX)/include/pushcgi/sources/
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/
	for pc in $(PC_NAMES); do \
	  sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    $$pc.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/$$pc.pc && \
	  chmod 644 $(DESTDIR)$(LIBDIR)/pkgconfig/$$pc.pc || exit 1; \
	done

# Installs into a scratch prefix and builds from the installed headers with pkg-config alone,
# as a user of the library would: hello_push with pushcgi (whose libraries must not name
# libturbojpeg), and a program using pushcgi/jpeg.hpp with pushcgi-jpeg.
INSTALL_CHECK := $(abspath $(BUILD)/install-check)
install-check: all
	@rm -rf $(BUILD)/install-check
	$(Q)$(MAKE) --no-print-directory -s install PREFIX=$(INSTALL_CHECK) \
	    LIBDIR=$(INSTALL_CHECK)/lib DESTDIR= BUILD=$(BUILD) >/dev/null
	$(Q)export PKG_CONFIG_PATH=$(INSTALL_CHECK)/lib/pkgconfig; \
	    if pkg-config --libs pushcgi | grep -qE 'turbojpeg|curl'; then \
	      echo "install-check: pkg-config --libs pushcgi names libturbojpeg or libcurl" >&2; \
	      exit 1; fi; \
	    $(CXX) $(WARNINGS) $(CXXFLAGS) $(LDFLAGS) examples/hello_push.cpp \
	      $$(pkg-config --cflags --libs pushcgi) -o $(INSTALL_CHECK)/hello_push && \
	    $(CXX) $(WARNINGS) $(CXXFLAGS) $(LDFLAGS) tests/install/jpeg_user.cpp \
	      $$(pkg-config --cflags --libs pushcgi-jpeg) -o $(INSTALL_CHECK)/jpeg_user && \
	    $(INSTALL_CHECK)/jpeg_user >/dev/null
	@echo "  install-check: hello_push builds with pushcgi.pc, a JPEG and http source user" \
	      "with pushcgi-jpeg.pc"

# The Debian packages pushcgi and libpushcgi-dev (debian/), built by dpkg-buildpackage in
# build/debian and moved to build/deb/ with their .buildinfo and .changes, so that nothing
# is written beside the source tree, and cleaned up after (--post-clean). DEB_JOBS:
# dpkg-buildpackage's -j (auto: one per core).
DEB_DIR  := $(abspath $(BUILD)/deb)
DEB_JOBS ?= auto
DEB_ARCH  = $(shell dpkg --print-architecture)
deb: deb-version-check | packages
	$(Q)rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)
	$(Q)env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL PUSHCGI_DEB_DIR=$(DEB_DIR) \
	    dpkg-buildpackage -us -uc -b -j$(DEB_JOBS) --post-clean \
	    --buildinfo-file=$(DEB_DIR)/pushcgi_$(VERSION)_$(DEB_ARCH).buildinfo \
	    --buildinfo-option=-u$(DEB_DIR) \
	    --changes-file=$(DEB_DIR)/pushcgi_$(VERSION)_$(DEB_ARCH).changes \
	    --changes-option=-u$(DEB_DIR)
	@echo "  deb: $$(cd $(DEB_DIR) && echo *.deb)"

# debian/changelog's version is the packages' version: it must be the Makefile's VERSION
# (which the programs print with --version). debian/rules runs this check too.
deb-version-check: | packages
	$(Q)changelog=$$(dpkg-parsechangelog -S Version) && [ "$$changelog" = "$(VERSION)" ] || \
	  { echo "deb: debian/changelog has version '$$changelog' but the Makefile's VERSION is" \
	         "'$(VERSION)': make them agree" >&2; exit 1; }

# Builds the packages, checks them with lintian, installs them, runs the installed programs
# as their units would behind a test nginx that includes the installed snippet, builds an
# example against libpushcgi-dev, and purges both (as root; tests/package/run.sh).
package-test: | packages
	$(Q)tests/package/run.sh

FORMAT_FILES = $(shell git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp' 2>/dev/null || \
                 find lib cgi examples tests bench -name '*.[ch]pp' 2>/dev/null)
format: | packages
	$(Q)clang-format -i $(FORMAT_FILES)
format-check: | packages
	$(Q)clang-format --dry-run -Werror $(FORMAT_FILES)
	@echo "  format-check: clean"

clean:
	rm -rf build


# Benchmarks: not part of `make test`. bench/run.py runs every scenario (nginx, the peers,
# the load client) and rewrites the generated part of docs/BENCHMARKS.md.
BENCH_SRCS := $(wildcard bench/*.cpp)
BENCH_BINS := $(BENCH_SRCS:bench/%.cpp=$(BUILD)/bench/%)
$(BENCH_BINS): private LIBS += $(SOURCE_LIBS)
$(BENCH_SRCS:%.cpp=$(BUILD)/obj/%.o): ALL_CPPFLAGS += -Ilib/src $(PROGRAM_INCLUDES) -Itests

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(SUPPORT_OBJS) $(PROGRAM_ARCHIVES) $(LIB) | $(EXAMPLE_BINS) $(CGI_BINS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CXX) $(ALL_CXXFLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

.PHONY: bench
bench: $(BENCH_BINS) $(CGI_BINS) | packages
	$(Q)/usr/bin/python3 bench/run.py $(BENCH_ARGS)

-include $(DEPS) $(BENCH_SRCS:%.cpp=$(BUILD)/obj/%.d) $(FUZZ_OBJS:.o=.d)
