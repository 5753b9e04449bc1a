# signalpipe — the two commands a newcomer needs are `make run` and `make test`.
GO      ?= go
PKGS    ?= ./...
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/signalpipe/signalpipe/internal/cli.Version=$(VERSION)

.PHONY: run test bench lint build fuzz clean

## run: start the whole job on the embedded default (broker, sandboxes, traffic, pipeline, status page on :8080)
run:
	$(GO) run ./cmd/signalpipe demo

## test: every test (unit, integration on kfake + sandbox, fuzz seeds, fault injection)
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

## bench: throughput and CPU per event (end to end on kfake + sandbox, the transform alone, schema validation's fast path vs the library), RSS under a 1M-event outage backlog (BACKLOG_EVENTS=N to change) and its drain rate; the report API over 30 days; the process stage's state: events/s, size per million people and dedupe keys, restore time per million keys
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 30m ./internal/bench/ ./internal/pii/ ./internal/schema/ ./internal/ingest/ ./internal/sandbox/ ./internal/quality/
	$(GO) test -run '^$$' -bench 'BenchmarkProcessStage$$' -benchtime 300x -count=1 -timeout 30m ./internal/process/
	$(GO) test -run '^$$' -bench 'BenchmarkProcessStageOnKafka' -benchtime 1000000x -count=1 -timeout 30m ./internal/process/
	$(GO) test -run '^$$' -bench 'BenchmarkStoreSize' -benchtime 1x -count=1 -timeout 30m ./internal/process/
	$(GO) test -run '^$$' -bench 'BenchmarkRestore' -benchtime 3x -count=1 -timeout 30m ./internal/store/

## lint: formatting and vet
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo 'gofmt would change the files above'; exit 1)
	$(GO) vet $(PKGS)

## build: a static binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/signalpipe ./cmd/signalpipe

## fuzz: run every fuzz target in the repository for a while each (FUZZTIME=30s)
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -h '^func Fuzz' $$pkg/*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "== $$f in $$pkg ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin
