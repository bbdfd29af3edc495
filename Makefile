# make build:   bin/moodle-zabbix, stamped with the version (git describe) and the commit.
# make install: the binary to $(PREFIX)/bin and the operations guide to $(PREFIX)/share/doc
#               (DESTDIR for staging); the service user, directories, cron file or systemd
#               unit are set up as docs/operations.md says.
# make test:    services + vet + all tests (integration included) + short fuzzing.
# make demo:    the end-to-end demo (uses the services when .ci/services.env exists).
# make screenshots: docs/img pictures of the dashboards on Zabbix 6.0 and 7.0 (as root).
.PHONY: build install test demo services screenshots

PREFIX  ?= /usr/local
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
APP     := github.com/moodle-zabbix/moodle-zabbix/cmd/moodle-zabbix/app
LDFLAGS := -s -w -X $(APP).Version=$(VERSION) -X $(APP).Commit=$(COMMIT)

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/moodle-zabbix ./cmd/moodle-zabbix

install: bin/moodle-zabbix
	install -D -m 0755 bin/moodle-zabbix $(DESTDIR)$(PREFIX)/bin/moodle-zabbix
	install -D -m 0644 docs/operations.md $(DESTDIR)$(PREFIX)/share/doc/moodle-zabbix/operations.md

bin/moodle-zabbix:
	$(MAKE) build

test:
	bash scripts/test.sh

services:
	bash scripts/services.sh

screenshots:
	bash scripts/screenshots.sh

demo:
	@if [ -f .ci/services.env ]; then . ./.ci/services.env; fi; go run ./cmd/moodle-zabbix demo
