# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run run-release build test test-unit lint fmt boundaries bench clean-data ci

run: build ## the whole system with embedded defaults (SQLite under ./data, in-process cache)
	@scripts/run-local.sh

run-release:
	$(CARGO) build --release --bins
	@PROFILE=release scripts/run-local.sh

build:
	$(CARGO) build --bins

test: ## every test: unit, integration on SQLite and PostgreSQL, Redis paths
	@scripts/ensure-services.sh
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) build --workspace --bins && $(CARGO) nextest run --workspace --no-fail-fast; \
	else \
		$(CARGO) build --workspace --bins && $(CARGO) test --workspace --no-fail-fast; \
	fi

lint: ## formatting, clippy with warnings denied, dependency boundaries
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@scripts/check-boundaries.sh

fmt:
	$(CARGO) fmt --all

boundaries:
	@scripts/check-boundaries.sh

bench: ## benchmarks against running binaries; see docs/BENCHMARKS.md
	@scripts/bench.sh

clean-data: ## forget the local SQLite data, keys and generated admin
	rm -rf ./data

ci: lint test
