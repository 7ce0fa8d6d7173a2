# The two commands of the README. Both set everything up first (idempotent).
PY := .venv/bin/python
REPORTS := reports
PYTEST_REPORTS = --junitxml=$(REPORTS)/junit.xml --alluredir=$(REPORTS)/allure-results --clean-alluredir
# Scenarios run in parallel, one stack per worker process (make drill WORKERS=1 for one at a time).
WORKERS ?= 3

.PHONY: setup drill test bench lint clean images

setup:
	@bash scripts/bootstrap.sh

## make drill: the bundled scenario suite on the default (local) backend, reports in reports/
## (ALERTDRILL_BACKEND=docker make drill: the same suite in containers);
## the drill report (reports/drill-report.html/.md) is built even when scenarios fail, and the
## exit code stays pytest's (or the report's, when pytest passed and the report failed)
drill: setup
	@mkdir -p $(REPORTS)
	@status=0; \
	$(PY) -m pytest features -n $(WORKERS) $(PYTEST_REPORTS) --report-dir=$(REPORTS)/drill $(PYTEST_ARGS) || status=$$?; \
	$(PY) -m alertdrill.cli report --from $(REPORTS)/drill --out $(REPORTS) || { rc=$$?; [ $$status -ne 0 ] || status=$$rc; }; \
	exit $$status

## make test: lint, types, the engine's own tests (mutants of the reference config included),
## (the warm pool off unless ALERTDRILL_POOL says otherwise: see README › The warm pool)
## the bundled scenarios; then the local images (reused when up to date) and the @docker-subset
## scenarios on the Docker backend
test: setup
	$(PY) -m ruff check .
	$(PY) -m mypy alertdrill
	$(PY) -m alertdrill.backends.images build
	ALERTDRILL_POOL=$${ALERTDRILL_POOL:-0} $(PY) -m pytest tests features -n $(WORKERS) --junitxml=$(REPORTS)/test-junit.xml $(PYTEST_ARGS)
	$(PY) -m pytest features --backend docker -m docker-subset --report-dir=$(REPORTS)/drill-docker \
		--junitxml=$(REPORTS)/test-docker-junit.xml $(PYTEST_ARGS)

## make bench: start-up and kill-to-notification numbers (prints, asserts nothing)
bench: setup
	$(PY) bench/run.py

## make images: the Docker backend's images, built from this machine's Debian packages with no
## registry (starts dockerd if none runs; up-to-date images are reused). IMAGES="prometheus python"
## builds some; ALERTDRILL_IMAGES=official selects the pinned upstream images instead.
images: setup
	$(PY) -m alertdrill.backends.images build $(IMAGES)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy alertdrill

clean:
	rm -rf $(REPORTS)/allure-results $(REPORTS)/*.xml $(REPORTS)/drill $(REPORTS)/drill-report.*
