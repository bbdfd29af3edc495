# make test: services + vet + all tests (integration included) + short fuzzing.
# make demo: the end-to-end demo (uses the services when .ci/services.env exists).
.PHONY: test demo services

test:
	bash scripts/test.sh

services:
	bash scripts/services.sh

demo:
	@if [ -f .ci/services.env ]; then . ./.ci/services.env; fi; go run ./cmd/moodle-zabbix demo
