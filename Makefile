# gosio: `make run` starts the chat example, `make test` runs every test.
GO ?= go
STATICCHECK_VERSION ?= v0.8.2
NPM_STAMP := conformance/node_modules/.npm-ci-stamp

.PHONY: run run-cluster test lint npm conformance-official bench clean

## run: start the chat example (examples/chat) on :3000, in memory (no Redis needed); it prints its URL
run: npm
	$(GO) run ./examples/chat

## run-cluster: the chat as two servers on one private redis-server (free ports); it prints both URLs
run-cluster: npm
	examples/chat/run-cluster.sh

## npm: install the pinned Node test peers (engine.io-client, socket.io-client, ...)
npm: $(NPM_STAMP)

$(NPM_STAMP): conformance/package.json conformance/package-lock.json
	@command -v npm >/dev/null || { echo "npm is required (Node.js 20+)"; exit 1; }
	cd conformance && npm ci --no-audit --no-fund
	@touch $@

## test: every test, race detector on, with the Node peers installed first
test: npm
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...
	cd bench && $(GO) vet ./... && $(GO) test -race -count=1 ./...
	$(MAKE) fuzz-short

## fuzz-short: a few seconds of every fuzz target (FUZZTIME=3s); the list is scripts/fuzz-short.sh
fuzz-short:
	GO=$(GO) scripts/fuzz-short.sh

## lint: gofmt, go vet and staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

## conformance-official SUITES=<checkout of socketio/socket.io>: run the official suites against our servers
conformance-official:
	@test -n "$(SUITES)" || { echo "usage: make conformance-official SUITES=/path/to/socket.io"; exit 2; }
	conformance/scripts/run-official.sh "$(SUITES)"

## bench: Go benchmarks of the library
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf conformance/node_modules

.PHONY: bench-compare bench-smoke

## bench-compare: gosio against Node socket.io, zishang520, the raw server and the epoll floor (~55 min); writes docs/benchmarks.md
bench-compare:
	@command -v npm >/dev/null || { echo "npm is required (Node.js 20+)"; exit 1; }
	cd bench && $(GO) build -o bin/ ./cmd/... && npm ci --no-audit --no-fund
	cd bench && ./bin/benchrun -profile compare -reps 3 -maxreps 4 -servers gosio,node,zishang520,raw,floor -doc ../docs/benchmarks.md

## bench-smoke: a 3-minute subset that prints gosio's ratios against the raw coder/websocket floor
bench-smoke:
	cd bench && $(GO) build -o bin/ ./cmd/...
	cd bench && ./bin/benchrun -profile smoke -quick -reps 1 -servers gosio,raw -maxload 100
