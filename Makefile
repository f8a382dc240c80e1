# The front door for developers: each target calls a script under infra/ (or cargo), so the
# scripts stay the truth and this file only names them. `make help` lists the targets.
#
# The README's two commands are `make run` and `make test`: each installs what it needs first
# (`infra/setup.sh run|test`, idempotent and quiet), then does its job.

.DEFAULT_GOAL := help
.PHONY: help run test setup setup-run lint unit oracles e2e stack-up stack-down stack-status \
	stack-clean bench bench-lambda bench-peers fuzz fmt

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

run: setup-run ## set up, start the local stack, ask it about eligibility and submit a claim
	infra/run.sh

test: setup ## set up, then every test: lint, unit, oracles, end to end
	infra/test.sh

setup: ## install what building and testing need (Debian packages, the WASM toolchain)
	infra/setup.sh test

setup-run: ## install what the local stack needs (no WASM toolchain, no oracles)
	infra/setup.sh run

lint: ## cargo fmt --check and clippy -D warnings
	infra/test.sh lint

unit: ## unit, integration and property tests of every crate (cargo nextest)
	infra/test.sh unit

oracles: ## what we write, checked by pyx12 and published code lists; rule sets; template.yaml
	infra/test.sh oracles

e2e: ## the end-to-end tests on a local stack of their own, then pyx12 on what the payer got
	infra/test.sh e2e

stack-up: ## start the local stack (or bring it up to date)
	infra/stack.sh up

stack-down: ## save S3 and SQS, then stop the local stack
	infra/stack.sh down

stack-status: ## what of the local stack runs
	infra/stack.sh status

stack-clean: ## start the local stack from empty data
	infra/stack.sh up --clean

bench: ## the X12 engine, translation and rules host benchmarks (criterion)
	cargo bench -p hms-x12 --bench throughput
	cargo bench -p hms-domain --bench translate
	cargo bench -p hms-rules --bench rules
	cargo bench -p hms-lambda --bench eligibility
	cargo bench -p hms-lambda --bench submission

bench-lambda: ## release bootstraps, init time, submit latency (needs a running local stack)
	infra/bench-lambda.sh
	python3 infra/bench-submit.py

bench-peers: ## our validator against pyx12, Stedi's and node-x12 on one synthetic 835
	infra/bench-peers.sh

fuzz: ## fuzz every parser of untrusted input, 10 minutes a target (nightly and cargo-fuzz)
	infra/fuzz.sh 600

fmt: ## format the workspace
	cargo fmt --all
