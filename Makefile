# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: release run run-release build test test-unit lint fmt boundaries bench k8s-validate docker clean-data ci fuzz

run: build ## the whole system with embedded defaults (SQLite under ./data, in-process cache)
	@scripts/run-local.sh

run-release:
	$(CARGO) build --release --bins
	@PROFILE=release scripts/run-local.sh

build:
	$(CARGO) build --bins

test: ## every test: unit, integration on SQLite and PostgreSQL, Redis paths, the dashboard in Chromium
	@scripts/ensure-services.sh
	@scripts/ensure-chromium.sh
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

k8s-validate: ## render every k8s/ overlay and check it offline against the Kubernetes API schema; check docker-compose.yml
	@scripts/k8s-validate.sh
	@scripts/compose-validate.sh

docker: ## one image per service (deploy/Dockerfile); needs a Docker daemon
	docker build -f deploy/Dockerfile --build-arg PACKAGE=crm-foundation -t bantu/crm-foundation:dev .
	docker build -f deploy/Dockerfile --build-arg PACKAGE=crm-service-management -t bantu/crm-service-management:dev .
	docker build -f deploy/Dockerfile --build-arg PACKAGE=crm-order-workflow -t bantu/crm-order-workflow:dev .
	docker build -f deploy/Dockerfile --build-arg PACKAGE=crm-analytics-monitoring -t bantu/crm-analytics-monitoring:dev .
	docker build -f deploy/Dockerfile --build-arg PACKAGE=crm-gateway -t bantu/crm-gateway:dev .

release: ## one service on its own: make release SERVICE=order-workflow [ARGS="--push --deploy"]
	@test -n "$(SERVICE)" || { echo "usage: make release SERVICE=<service> [ARGS=\"--push --deploy\"]"; exit 2; }
	@scripts/release.sh $(SERVICE) $(ARGS)

fuzz: ## property-based fuzzing of every service's API from its OpenAPI document; fails on any 5xx
	@scripts/fuzz-api.sh

bench: ## benchmarks against running binaries; see docs/BENCHMARKS.md
	@scripts/bench.sh

clean-data: ## forget the local SQLite data, keys and generated admin
	rm -rf ./data

ci: lint test k8s-validate
