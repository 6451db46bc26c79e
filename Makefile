# bexio-bi — the two commands of the README, and a few helpers.
#
#   make demo   run the demo end to end on the local sandbox
#   make test   run every check and test (what CI runs)
#
# Builds go to a cache outside the checkout so that fresh clones (and CI) reuse them.

CARGO_TARGET_DIR ?= $(HOME)/.cache/bexio-bi/target
export CARGO_TARGET_DIR
CARGO ?= cargo

.PHONY: demo test tools fmt lint unit doc bench clean-cache

demo: tools
	$(CARGO) run --quiet -p bexio-bi -- demo

test: tools fmt lint unit doc

# Everything the checks need, installed only when missing.
tools:
	@.ci/ensure-tools

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

unit:
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --locked --no-fail-fast; \
	else \
		echo "cargo-nextest not found; using cargo test"; \
		$(CARGO) test --workspace --locked --no-fail-fast; \
	fi

doc:
	$(CARGO) test --workspace --locked --doc

# Benchmarks stay out of `make test`; see BENCHMARKS.md.
bench:
	core/sandbox/bench/compare.sh
	core/bexio/bench/compare.sh
	$(CARGO) bench -p bexio-bi-compare --bench versions
	$(CARGO) bench -p bexio-bi-export --bench linkages
	$(CARGO) bench -p bexio-bi-export --bench files

clean-cache:
	rm -rf "$(CARGO_TARGET_DIR)"
