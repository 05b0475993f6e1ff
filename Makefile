# nncore — the two commands a newcomer needs are `make demo` and `make test`.
# Both install what is missing first (Debian packages), then build, then run.

SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := libopenblas-dev libprotobuf-c-dev protobuf-c-compiler
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RELEASE_BIN := .build/release

.PHONY: all demo test build deps clean help proto check-generated

all: build

help:
	@echo "make demo   install what is missing, build, train the spiral demo"
	@echo "make test   install what is missing, build, run every test"
	@echo "make build  release build of libnncore.so, the NNCore module and the nn tool"
	@echo "make proto  regenerate Sources/NNSchema from schema/nncore.proto"
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

build: deps
	$(SWIFT) build -c release

demo: build
	$(RELEASE_BIN)/nn demo

## protoc-c's output for the model-file schema is committed; regenerate it after editing the schema.
proto: deps
	protoc-c --proto_path=schema --c_out=Sources/NNSchema schema/nncore.proto
	mv Sources/NNSchema/nncore.pb-c.h Sources/NNSchema/include/nncore.pb-c.h

## Fails when a committed generated file differs from what its generator writes now.
check-generated: deps
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	protoc-c --proto_path=schema --c_out="$$tmp" schema/nncore.proto; \
	if ! diff -q "$$tmp/nncore.pb-c.c" Sources/NNSchema/nncore.pb-c.c >/dev/null || \
	   ! diff -q "$$tmp/nncore.pb-c.h" Sources/NNSchema/include/nncore.pb-c.h >/dev/null; then \
	  echo "error: Sources/NNSchema is stale: run 'make proto' and commit the result" >&2; exit 1; \
	fi; echo "generated files are current"

test: deps check-generated
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

clean:
	rm -rf .build
