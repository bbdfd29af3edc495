# make test: services + vet + all tests (integration included) + short fuzzing.
# make demo: the end-to-end demo (uses the services when .ci/services.env exists).
# make screenshots: docs/img pictures of the dashboards on Zabbix 6.0 and 7.0 (as root).
.PHONY: test demo services screenshots

test:
	bash scripts/test.sh

services:
	bash scripts/services.sh

screenshots:
	bash scripts/screenshots.sh

demo:
	@if [ -f .ci/services.env ]; then . ./.ci/services.env; fi; go run ./cmd/moodle-zabbix demo
