GO ?= go
# Keyport is built and tested with Go 1.27.3 (go.mod's toolchain line): on a machine with an older Go the
# go command fetches that version from the module proxy once. go1.26.8 misses standard-library security
# fixes; go.mod's go line stays at 1.26.8 so that tools run on the machine's own Go still read the module.
export GOTOOLCHAIN := go1.27.3
DATA ?= ./data

.PHONY: run test test-postgres bench loadtest loadtest-postgres generate fmt lint vulncheck build docker screenshots

## run: start the portal on an embedded SQLite file in $(DATA), with demo logins on first start
run:
	$(GO) run ./cmd/keyport serve --demo --data $(DATA)

## test: every test, including the headless Chromium browser tests, under the race detector. The race
## build also checks every unsafe pointer conversion (checkptr); that check is off for the modernc.org
## packages alone, the SQLite engine translated from C, where it cost a third of the tests' CPU time
## (our code and every other module keep it)
RACE_FLAGS ?= -race -gcflags='modernc.org/...=-d=checkptr=0'
test:
	$(GO) test $(RACE_FLAGS) -count=1 -timeout 30m ./...

## test-postgres: the same tests on a throwaway PostgreSQL cluster (.ci/pg-cluster), stopped and removed
## at the end whatever the outcome
test-postgres:
	@cluster=$$(.ci/pg-cluster start) || exit 1; eval "$$cluster"; \
	trap '.ci/pg-cluster stop "$$KEYPORT_PG_DIR"' EXIT; trap 'exit 130' INT TERM; \
	echo "testing on $$KEYPORT_TEST_DATABASE_URL"; \
	$(MAKE) --no-print-directory test

## screenshots: photograph the main pages at 1280 and 390 px wide with headless Chromium into
## docs/screenshots, the pictures the README shows (TestBrowserScreenshots; make test takes them too,
## into a temporary folder, and checks the README shows each one)
screenshots:
	mkdir -p docs/screenshots
	KEYPORT_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run '^TestBrowserScreenshots$$' ./web

## bench: the Go benchmarks, then the load test of the real server (see loadtest)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./cmd/loadtest -go '$(GO)' $(LOADTEST_FLAGS)

## loadtest: seed 10,000 API accounts and 20,000 keys, start a -tags loadtest build of the server on
## 127.0.0.1 and load /v1/couriers with a key vs its unkeyed twin (same answer), then /v1/couriers
## with the 20,000 keys in turn, quiet vs while a client signs in and creates keys (throughput ratio
## and verifier cache misses), then /v1/shipments at a fixed rate (flags: LOADTEST_FLAGS='-c 8 ...').
## On PostgreSQL with several replicas: LOADTEST_FLAGS='-database postgres://... -replicas 3' seeds a
## schema of its own there (dropped at the end), spreads every run over the replicas, compares
## /v1/couriers per replica against as many SQLite servers, and times revocations across the replicas
loadtest:
	$(GO) run ./cmd/loadtest -go '$(GO)' $(LOADTEST_FLAGS)

## loadtest-postgres: the load test with -replicas 3 on a throwaway PostgreSQL cluster (.ci/pg-cluster),
## stopped and removed at the end whatever the outcome
loadtest-postgres:
	@cluster=$$(.ci/pg-cluster start) || exit 1; eval "$$cluster"; \
	trap '.ci/pg-cluster stop "$$KEYPORT_PG_DIR"' EXIT; trap 'exit 130' INT TERM; \
	$(GO) run ./cmd/loadtest -go '$(GO)' -database "$$KEYPORT_TEST_DATABASE_URL" -replicas 3 $(LOADTEST_FLAGS)

## generate: regenerate the templ components
generate:
	$(GO) tool templ generate

## fmt: format Go and templ sources
fmt:
	gofmt -w $$(git ls-files '*.go')
	$(GO) tool templ fmt views

## lint: formatting, vet, and generated files up to date
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@for f in views/*.templ; do $(GO) tool templ fmt -stdout $$f 2>/dev/null | cmp -s - $$f || { echo "templ fmt needed on $$f: run make fmt"; exit 1; }; done
	$(GO) tool templ generate >/dev/null
	@git diff --exit-code -- '*_templ.go' >/dev/null || (echo "generated templ files were stale: commit the output of make generate"; git diff --stat -- '*_templ.go'; exit 1)
	@untracked=$$(git ls-files --others --exclude-standard -- '*_templ.go'); if [ -n "$$untracked" ]; then echo "uncommitted generated files: $$untracked"; exit 1; fi

## vulncheck: govulncheck against the vulnerability database of the golang.org/x/vulndb module (indexed
## once into ~/.cache), failing on any reachable advisory not reviewed in .ci/vulncheck-reviewed
vulncheck:
	.ci/vulncheck

## build: a static binary in bin/keyport
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o bin/keyport ./cmd/keyport

## docker: the container image keyport:latest
docker:
	docker build -t keyport:latest .
