# nncore — the two commands a newcomer needs are `make demo` and `make test`.
# Both install what is missing first (Debian packages), then build, then run.

SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := libopenblas-dev libprotobuf-c-dev protobuf-c-compiler gcc g++ pkg-config python3 python3-venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RELEASE_BIN := .build/release
PREFIX ?= /usr/local
VERSION := $(shell sed -n 's/^major = \(.*\)/\1/p;s/^minor = \(.*\)/\1/p;s/^patch = \(.*\)/\1/p' api/nncore.toml | paste -sd.)
SONAME := libnncore.so.$(firstword $(subst ., ,$(VERSION)))
# The shipped library: release, Swift runtime linked in, only the header's functions exported.
SHIPPED := .build/shipped/release/libnncore.so
STAGE := build
STRICT := -Wall -Wextra -pedantic -Werror
# In the order they run: train_spiral writes the model that classify reads.
C_EXAMPLES := graph_example train_spiral classify

.PHONY: bench c-tests sanitize valgrind python-test fixtures fuzz swift-example all demo test build deps clean help proto generate check-generated library check-header check-exports install c-examples

all: build

help:
	@echo "make demo   install what is missing, build, train the spiral demo"
	@echo "make test   install what is missing, build, run every test"
	@echo "make build  release build of libnncore.so, the NNCore module and the nn tool"
	@echo "make proto  regenerate Sources/NNSchema from schema/nncore.proto"
	@echo "make generate  regenerate include/nncore.h, the ctypes layer and api/exports.map from api/nncore.toml"
	@echo "make install PREFIX=/usr/local  install libnncore.so, nncore.h and nncore.pc"
	@echo "make c-tests  the C test suite (every function of nncore.h, every reachable status)"
	@echo "make sanitize  the C test suite under AddressSanitizer/LeakSanitizer and ThreadSanitizer"
	@echo "make valgrind  the C examples and the C test suite under valgrind memcheck"
	@echo "make fuzz FUZZ_SECONDS=600  fuzz the model-file loader (libFuzzer + AddressSanitizer)"
	@echo "make bench  benchmarks vs NumPy, JAX, scikit-learn, ONNX Runtime, FANN (BENCH_TORCH=1 adds PyTorch, BENCH_QUICK=1 a quick pass)"
	@echo "make fixtures  rewrite the golden model files in Tests/Fixtures/models"
	@echo "make clean  remove build products"

## Install the Debian packages the build needs, when they are missing.
deps:
	@missing=""; \
	for package in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "error: the Swift toolchain (swift) is not on PATH" >&2; exit 1; }

build: deps library
	$(SWIFT) build -c release

## libnncore.so as shipped: static Swift runtime, SONAME, version script. Relinked every time,
## because an edit to the version script alone does not make SwiftPM relink.
library: deps
	rm -f $(SHIPPED)
	$(SWIFT) build -c release --product nncore --scratch-path .build/shipped -Xswiftc -static-stdlib \
	  -Xlinker --version-script=$(CURDIR)/api/exports.map -Xlinker -soname=$(SONAME)
	rm -rf $(STAGE) && mkdir -p $(STAGE)/lib $(STAGE)/include
	cp $(SHIPPED) $(STAGE)/lib/libnncore.so.$(VERSION)
	ln -s libnncore.so.$(VERSION) $(STAGE)/lib/$(SONAME)
	ln -s $(SONAME) $(STAGE)/lib/libnncore.so
	cp include/nncore.h $(STAGE)/include/
	cp $(SHIPPED) bindings/python/nncore/libnncore.so
	@echo "built $(STAGE)/lib/libnncore.so.$(VERSION) ($$(du -h $(SHIPPED) | cut -f1))"

install: library
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 0755 $(STAGE)/lib/libnncore.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libnncore.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libnncore.so
	install -m 0644 include/nncore.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' pkgconfig/nncore.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/nncore.pc
	@echo "installed nncore $(VERSION) under $(DESTDIR)$(PREFIX)"

## The header compiles cleanly as C99, C11 and C++11 with gcc and clang.
check-header:
	@for cc in gcc clang; do for std in c99 c11; do \
	  $$cc -std=$$std $(STRICT) -fsyntax-only -x c include/nncore.h || exit 1; done; done
	@for cxx in g++ clang++; do $$cxx -std=c++11 $(STRICT) -fsyntax-only -x c++ include/nncore.h || exit 1; done
	@echo "nncore.h compiles as C99, C11 and C++11 with gcc and clang"

## The shipped library exports exactly the header's functions and needs no Swift library.
check-exports: library
	@nm -D --defined-only $(SHIPPED) | awk '$$2 ~ /^[A-Z]$$/ && $$2 != "A" {sub(/@.*/, "", $$3); print $$3}' | sort > .build/exported.txt
	@grep -E '^    nn_' api/exports.map | tr -d ' ;' | sort > .build/declared.txt
	@diff -u .build/declared.txt .build/exported.txt || { echo "error: libnncore.so exports differ from nncore.h" >&2; exit 1; }
	@if ldd $(SHIPPED) | grep -i swift; then echo "error: libnncore.so needs a Swift library" >&2; exit 1; fi
	@readelf -d $(SHIPPED) | grep -q "SONAME.*\[$(SONAME)\]" || { echo "error: SONAME is not $(SONAME)" >&2; exit 1; }
	@echo "libnncore.so exports exactly the $$(wc -l < .build/declared.txt) functions of nncore.h, SONAME $(SONAME), no Swift library needed"

## The C examples, built against an installed copy with pkg-config, then run.
c-examples: library
	rm -rf .build/c-install && $(MAKE) --no-print-directory install PREFIX=$(CURDIR)/.build/c-install >/dev/null
	@mkdir -p .build/c-examples
	@set -e; export PKG_CONFIG_PATH=$(CURDIR)/.build/c-install/lib/pkgconfig; \
	for source in examples/c/*.c; do \
	  name=$$(basename $$source .c); \
	  gcc -std=c99 $(STRICT) $$source $$(pkg-config --cflags --libs nncore) -lm -Wl,-rpath,$(CURDIR)/.build/c-install/lib -o .build/c-examples/$$name; \
	done
	cd .build/c-examples && for program in $(C_EXAMPLES); do echo "== $$program"; ./$$program || exit 1; done

demo: build
	$(RELEASE_BIN)/nn demo --out $(STAGE)/demo

## protoc-c's output for the model-file schema is committed; regenerate it after editing the schema.
proto: deps
	protoc-c --proto_path=schema --c_out=Sources/NNSchema schema/nncore.proto
	mv Sources/NNSchema/nncore.pb-c.h Sources/NNSchema/include/nncore.pb-c.h

## The C API's header, ctypes layer and version script come from api/nncore.toml.
generate:
	python3 api/generate.py

## Fails when a committed generated file differs from what its generator writes now.
check-generated: deps
	@python3 api/generate.py --check
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	protoc-c --proto_path=schema --c_out="$$tmp" schema/nncore.proto; \
	if ! diff -q "$$tmp/nncore.pb-c.c" Sources/NNSchema/nncore.pb-c.c >/dev/null || \
	   ! diff -q "$$tmp/nncore.pb-c.h" Sources/NNSchema/include/nncore.pb-c.h >/dev/null; then \
	  echo "error: Sources/NNSchema is stale: run 'make proto' and commit the result" >&2; exit 1; \
	fi; echo "generated files are current"

## The C test suite (Tests/C): every function of nncore.h and every reachable status code, built as
## C11 with pthreads against the installed copy (as a user's program is); fails if a function of
## the header is never called by it.
c-tests: c-examples
	@missing=$$(for f in $$(grep -E '^    nn_' api/exports.map | tr -d ' ;'); do grep -q "$$f(" Tests/C/test_capi.c || echo $$f; done); \
	if [ -n "$$missing" ]; then echo "error: Tests/C/test_capi.c never calls" $$missing >&2; exit 1; fi
	@mkdir -p .build/c-tests
	gcc -std=c11 $(STRICT) -pthread Tests/C/test_capi.c \
	  $$(PKG_CONFIG_PATH=$(CURDIR)/.build/c-install/lib/pkgconfig pkg-config --cflags --libs nncore) -lm \
	  -Wl,-rpath,$(CURDIR)/.build/c-install/lib -o .build/c-tests/test_capi
	.build/c-tests/test_capi

# clang and the Swift runtime of the toolchain `swift` belongs to: that clang ships the sanitizer
# runtimes (no Debian libclang-rt package needed) and matches the Swift compiler's.
SWIFT_TOOLCHAIN_BIN := $(dir $(realpath $(shell command -v $(SWIFT))))
SANITIZER_CC ?= $(SWIFT_TOOLCHAIN_BIN)clang
SWIFT_RUNTIME_DIR := $(realpath $(SWIFT_TOOLCHAIN_BIN)../lib/swift/linux)

## The C test suite under AddressSanitizer + LeakSanitizer and ThreadSanitizer, with the library
## instrumented too (debug builds with --sanitize=address / --sanitize=thread in their own scratch
## paths); ASan also runs against the shipped library. Any report fails the target. The TSan
## binary links Tests/C/tsan_swift_mutex.c, which shows TSan the locking inside Swift's Mutex.
sanitize: c-examples
	$(SWIFT) build --product nncore --sanitize=address --scratch-path .build/asan
	$(SWIFT) build --product nncore --sanitize=thread --scratch-path .build/tsan
	@mkdir -p .build/sanitize
	$(SANITIZER_CC) -fuse-ld=bfd -std=c11 $(STRICT) -pthread -g -O1 -fno-omit-frame-pointer -fsanitize=address \
	  Tests/C/test_capi.c -Iinclude -L.build/asan/debug -lnncore -lm \
	  -Wl,-rpath,$(CURDIR)/.build/asan/debug -Wl,-rpath,$(SWIFT_RUNTIME_DIR) -o .build/sanitize/test_capi_asan
	$(SANITIZER_CC) -fuse-ld=bfd -std=c11 $(STRICT) -pthread -g -O1 -fno-omit-frame-pointer -fsanitize=address \
	  Tests/C/test_capi.c $$(PKG_CONFIG_PATH=$(CURDIR)/.build/c-install/lib/pkgconfig pkg-config --cflags --libs nncore) \
	  -lm -Wl,-rpath,$(CURDIR)/.build/c-install/lib -o .build/sanitize/test_capi_asan_shipped
	$(SANITIZER_CC) -fuse-ld=bfd -std=c11 $(STRICT) -pthread -g -O1 -fsanitize=thread -rdynamic \
	  Tests/C/test_capi.c Tests/C/tsan_swift_mutex.c -Iinclude -L.build/tsan/debug -lnncore -lm -ldl \
	  -L$(SWIFT_RUNTIME_DIR) -ldispatch -lBlocksRuntime \
	  -Wl,-rpath,$(CURDIR)/.build/tsan/debug -Wl,-rpath,$(SWIFT_RUNTIME_DIR) -o .build/sanitize/test_capi_tsan
	ASAN_OPTIONS=detect_leaks=1 .build/sanitize/test_capi_asan
	ASAN_OPTIONS=detect_leaks=1 .build/sanitize/test_capi_asan_shipped
	TSAN_OPTIONS=halt_on_error=0 .build/sanitize/test_capi_tsan
	@echo "AddressSanitizer, LeakSanitizer and ThreadSanitizer: no reports"

## The C examples and the C test suite under valgrind memcheck (installed when missing); any error
## or leak fails. Debian's valgrind 3.19 cannot read the DWARF 5 debug information the Swift
## toolchain writes, so it runs on a copy of the installed library without it (symbols kept).
valgrind: c-tests
	@command -v valgrind >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq valgrind; }
	rm -rf .build/valgrind && mkdir -p .build/valgrind
	strip --strip-debug -o .build/valgrind/$(SONAME) .build/c-install/lib/libnncore.so.$(VERSION)
	@set -e; cd .build/c-examples; for program in $(C_EXAMPLES); do echo "== valgrind $$program"; \
	  LD_LIBRARY_PATH=$(CURDIR)/.build/valgrind valgrind -q --leak-check=full --error-exitcode=1 \
	    --suppressions=$(CURDIR)/Tests/C/valgrind.supp ./$$program; done
	@echo "== valgrind test_capi"
	LD_LIBRARY_PATH=$(CURDIR)/.build/valgrind valgrind -q --leak-check=full --error-exitcode=1 \
	  --suppressions=Tests/C/valgrind.supp .build/c-tests/test_capi
	@echo "valgrind: no errors, no leaks"

## examples/swift: a separate package that imports NNCore by path.
swift-example: deps
	$(SWIFT) build --package-path examples/swift
	cd examples/swift && ./.build/debug/SpiralExample

PYTHON ?= python3
PYENV := .build/python
PY := $(CURDIR)/$(PYENV)/bin/python

## The Python package, installed with the fresh libnncore.so inside, into a venv that also sees the
## system's packages; test dependencies installed when missing; then its tests and examples.
python-test: library c-examples
	@[ -x $(PY) ] || $(PYTHON) -m venv --system-site-packages $(PYENV)
	@$(PY) -c "import numpy, pytest, sklearn, tqdm, pandas" 2>/dev/null || $(PY) -m pip install --quiet numpy pytest scikit-learn tqdm pandas
	rm -rf bindings/python/build
	$(PY) -m pip install --quiet --force-reinstall --no-deps ./bindings/python
	$(PY) -m pytest bindings/python/tests
	@set -e; mkdir -p .build/python-examples; cd .build/python-examples; \
	for example in $(CURDIR)/examples/python/*.py; do echo "== $$example"; $(PY) $$example; done

test: deps check-generated check-header check-exports c-examples c-tests swift-example python-test
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## Benchmark suite (bench/, results in docs/performance.md); never part of make test.
bench: deps
	python3 bench/run.py

FUZZ_SECONDS ?= 600
FUZZ_DIR ?= .build/fuzz

## Rewrite the golden model files in Tests/Fixtures/models (review the diff, then commit it).
fixtures: deps
	$(SWIFT) build --build-tests
	NNCORE_WRITE_FIXTURES=1 $(SWIFT) test --skip-build --filter GoldenFixtureGenerator

## Fuzz the model-file loader with libFuzzer + AddressSanitizer for FUZZ_SECONDS seconds,
## starting from the golden files; crashes land in $(FUZZ_DIR)-artifacts.
fuzz: deps
	Fuzz/build.sh $(FUZZ_DIR)
	mkdir -p $(FUZZ_DIR)-corpus $(FUZZ_DIR)-artifacts
	$(FUZZ_DIR)/loader-fuzzer -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)-artifacts/ \
	    $(FUZZ_DIR)-corpus Tests/Fixtures/models/valid Tests/Fixtures/models/corrupt

clean:
	rm -rf .build $(STAGE) bindings/python/nncore/libnncore.so bindings/python/build bindings/python/nncore.egg-info
