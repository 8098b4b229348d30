# Deskmate: `make run` starts the assistant and opens a chat; `make test` runs every test.
# Both set up everything on a fresh machine (Python 3.10 venv, dependencies, seed data, trained model).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# AS is also make's built-in name for the assembler ("as"): `?=` would keep that, so test the origin.
ifeq ($(origin AS),default)
AS := zhangwei
endif
MODEL := models/deskmate.tar.gz
# pyproject.toml pins the sentence encoder whose vectors the trained model learned from (nlu/sentence_encoder.py)
NLU_SOURCES := $(shell find data domain -name '*.yml' 2>/dev/null) config.yml $(wildcard nlu/*.py nlu/*.yml) nlu/domain_words.txt \
  pyproject.toml

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONWARNINGS := ignore

.PHONY: run test eval bench venv synapse seed model lint clean

run: venv synapse seed $(MODEL) ## start Synapse, the assistant service and Rasa, chat as $(AS) over Matrix, stop all on exit
	$(BIN)/assistant run --as $(AS)

test: venv synapse $(MODEL) ## every check: pip check, ruff, rasa data validate, unit/store/API tests, stories, dialogues
	$(BIN)/pip check
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -ra $(PYTEST_ARGS)

eval: venv data/nlu/lookups.yml ## knowledge-search relevance, NLU cross-validation and held-out figures (results/)
	$(BIN)/python -m tools.eval_search
	$(BIN)/python -m tools.eval_nlu

bench: venv synapse $(MODEL) ## latency, throughput, memory, training, Matrix, topic turns, search, status; each with a same-run baseline (results/)
	$(BIN)/python -m tools.bench
	$(BIN)/python -m tools.bench_search
	$(BIN)/python -m tools.bench_topics
	$(BIN)/python -m tools.bench_status

venv: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml constraints.txt
	@PY=$$(scripts/find-python 3.10) || exit 1; \
	  [ -x $(BIN)/python ] || { echo "creating $(VENV) with $$PY"; $$PY -m venv $(VENV); }
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

synapse: .venv-synapse/.installed ## the local Synapse (matrix-synapse in its own Python 3.11 venv)

.venv-synapse/.installed: synapse-requirements.txt synapse-constraints.txt
	@PY=$$(scripts/find-python 3.11) || exit 1; \
	  [ -x .venv-synapse/bin/python ] || { echo "creating .venv-synapse with $$PY"; $$PY -m venv .venv-synapse; }
	.venv-synapse/bin/pip install --quiet --disable-pip-version-check -c synapse-constraints.txt -r synapse-requirements.txt
	@touch $@

seed: venv ## load the sample company into the database (idempotent)
	$(BIN)/assistant seed

data/nlu/lookups.yml: company/people.yml assistant/company.py | venv
	$(BIN)/assistant lookups --output $@

model: $(MODEL)

$(MODEL): $(NLU_SOURCES) data/nlu/lookups.yml | venv
	$(BIN)/rasa train --domain domain --config config.yml --data data --out models --fixed-model-name deskmate

lint: venv
	$(BIN)/ruff check .

clean: ## remove generated files (keeps the venv)
	rm -rf models var results data/nlu/lookups.yml .pytest_cache
