# MeterCom firmware: the two commands (make sim, make test) and the build.
# Every target makes its own .venv from requirements-dev.txt when it is missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < requirements-dev.txt | cut -d' ' -f1)

SIM_ARGS ?=
PYTEST_ARGS ?=

.PHONY: sim test mpy unit twin fuzz clean venv

venv: $(STAMP)

$(STAMP): requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

## make sim: the device as a digital twin with its embedded defaults
## (a simulated E350, DLMS on 127.0.0.1:4059, flash in ./flash).
sim: $(STAMP)
	$(BIN)/python tools/twin.py run --flash flash $(SIM_ARGS)

## make test: compile every device module with mpy-cross, type-check hal/ and the
## STM32 board against MicroPython's stubs, then every test.
test: $(STAMP)
	$(BIN)/python tools/build_mpy.py --check
	$(BIN)/python tools/typecheck.py
	$(BIN)/python -m pytest -q host_tests $(PYTEST_ARGS)

## make mpy: the deployable .mpy tree in build/
mpy: $(STAMP)
	$(BIN)/python tools/build_mpy.py --out build

unit: $(STAMP)
	$(BIN)/python -m pytest -q host_tests/unit $(PYTEST_ARGS)

twin: $(STAMP)
	$(BIN)/python -m pytest -q host_tests/twin host_tests/mp $(PYTEST_ARGS)

## make fuzz: the hypothesis suites with a long budget
fuzz: $(STAMP)
	FUZZ_EXAMPLES=20000 $(BIN)/python -m pytest -q host_tests/unit -k fuzz $(PYTEST_ARGS)

clean:
	rm -rf build .pytest_cache .hypothesis
