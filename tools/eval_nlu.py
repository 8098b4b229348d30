"""NLU evaluation per language: one bilingual model against two models behind a language router (`make eval`).

For every variant in VARIANTS the tool measures, separately for zh and en (an example is zh when it holds a
CJK character):
  - clean:   k-fold cross-validation over data/nlu/*.yml, folds stratified by intent + language;
  - asr:     the held-out fold of each of those models, rewritten as voice-to-text output (lower case, no
             punctuation, fillers, numbers as words; entity offsets recomputed);
  - heldout: a model trained on all of data/nlu/, tested on tests/nlu/heldout_*.yml;
giving intent accuracy, intent macro-F1 (an `nlu_fallback` prediction counts as wrong) overall, per training file
(feature) and per group of files the issues set targets on (TARGET_GROUPS), entity F1 per annotated entity type
and micro over them (exact span and type), training time and parse latency.

Results go to results/eval.json and results/eval.md; a compact table is printed. Models, configs and fold
data live in a temporary directory (and Rasa's training cache is pointed there, off): nothing in the
repository is touched but the output directory. A new variant is one entry of VARIANTS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import io
import json
import logging
import os
import platform
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
import unicodedata
import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Sequence, Tuple

import cn2an
import yaml
from rasa.core.agent import Agent
from rasa.model_training import train_nlu
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.log_utils import configure_structlog
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from assistant.config import ROOT
from assistant.language import LANGUAGES, has_cjk

SEED = 42
DATA_DIR = Path("data/nlu")
BASE_CONFIG = Path("config.yml")
HELDOUT_GLOB = "tests/nlu/heldout_*.yml"  # heldout_zh.yml, heldout_en.yml and any later held-out set
DOMAIN_WORDS = Path("nlu/domain_words.txt")
FALLBACK_INTENT = "nlu_fallback"
ALL = "all"  # a model (or a figure) for every language
SETS = ("clean", "asr", "heldout")
WARMUP_TEXTS = ("你好", "hello")
# The issues' intent targets are on groups of training files: the base intents (greet, goodbye, thanks, help,
# affirm, deny, out_of_scope: issue 2) and the reimbursement intents (the claim form and the approvals: issue 3).
# Each group is reported like a feature: one macro-F1 over all its intents.
TARGET_GROUPS = {"base intents": ("chitchat", "help"), "reimbursement intents": ("claims", "approvals")}
CHECKPOINTS = ".eval-checkpoints"  # under the output directory, removed when a run completes

Span = Tuple[str, int, int]  # entity type, start, end


# --- variants ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pipeline:
    """One model's pipeline, described as changes to config.yml's pipeline."""

    language: str | None = None  # replaces config.yml's `language`
    tokenizer: Mapping[str, Any] | None = None  # replaces config.yml's tokenizer component
    jieba_user_dict: bool = False  # give JiebaTokenizer a dictionary: nlu/domain_words.txt + CJK lookup entries
    replace: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)  # component -> components
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # component -> changed options


@dataclass(frozen=True)
class Variant:
    """A way to serve NLU: models keyed by the language they are trained on and get routed ("all": any)."""

    name: str
    description: str
    models: Mapping[str, Pipeline]


_ROUTER_EN = Pipeline(language="en", tokenizer={"name": "WhitespaceTokenizer"})
_FAST = {
    "DIETClassifier": (
        {"name": "LogisticRegressionClassifier", "random_state": SEED},
        {"name": "CRFEntityExtractor"},
    )
}
VARIANTS: Dict[str, Variant] = {
    variant.name: variant
    for variant in (
        Variant("bilingual", "one model, config.yml's pipeline as is (BilingualTokenizer + DIET)", {ALL: Pipeline()}),
        Variant(
            "router",
            "zh model (JiebaTokenizer with a user dictionary from nlu/domain_words.txt and the lookup tables) "
            "+ en model (WhitespaceTokenizer), same featurizers and DIET, routed by CJK",
            {
                "zh": Pipeline(language="zh", tokenizer={"name": "JiebaTokenizer"}, jieba_user_dict=True),
                "en": _ROUTER_EN,
            },
        ),
        Variant(
            "bilingual-fast",
            "one model, BilingualTokenizer and the same featurizers; LogisticRegressionClassifier + "
            "CRFEntityExtractor instead of DIET, same FallbackClassifier",
            {ALL: Pipeline(replace=_FAST)},
        ),
        Variant(
            "router-plain",
            "as router, but JiebaTokenizer without a user dictionary",
            {"zh": Pipeline(language="zh", tokenizer={"name": "JiebaTokenizer"}), "en": _ROUTER_EN},
        ),
    )
}
DEFAULT_VARIANTS = ("bilingual", "router", "bilingual-fast")


def write_config(pipeline: Pipeline, base_config: Path, path: Path, user_dict_dir: Path) -> Dict[str, Any]:
    """Write an NLU-only config derived from the base config (config.yml); returns it."""
    base = yaml.safe_load(base_config.read_text(encoding="utf-8"))
    components: List[Dict[str, Any]] = []
    for component in base["pipeline"]:
        name = component["name"]
        if pipeline.tokenizer is not None and name.endswith("Tokenizer"):
            component = dict(pipeline.tokenizer)
            if pipeline.jieba_user_dict:
                component["dictionary_path"] = str(user_dict_dir)
        if name in pipeline.replace:
            components.extend(dict(c) for c in pipeline.replace[name])
        else:
            components.append({**component, **pipeline.options.get(component["name"], {})})
    config = {
        "recipe": base.get("recipe", "default.v1"),
        "language": pipeline.language or base["language"],
        "assistant_id": base.get("assistant_id", "deskmate"),
        "pipeline": components,
        "policies": [],
    }
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return config


def write_jieba_user_dict(lookups: Iterable[Mapping[str, Any]], directory: Path) -> None:
    """The words the BilingualTokenizer keeps whole regardless of the fold: domain words and CJK lookup entries."""
    lines = DOMAIN_WORDS.read_text(encoding="utf-8").splitlines()
    words = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    for table in lookups:
        elements = table.get("elements", [])
        words.update(e for e in elements if isinstance(e, str) and has_cjk(e) and len(e) > 1 and " " not in e)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "user_dict.txt").write_text("".join(f"{w} 200000\n" for w in sorted(words)), encoding="utf-8")


# --- data --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """One annotated utterance; `origin` is the clean text an ASR copy was made from."""

    text: str
    intent: str
    entities: Tuple[Dict[str, Any], ...] = ()
    origin: str = ""

    @property
    def language(self) -> str:
        return "zh" if has_cjk(self.text) else "en"

    def spans(self, types: FrozenSet[str]) -> FrozenSet[Span]:
        return frozenset((e["entity"], e["start"], e["end"]) for e in self.entities if e["entity"] in types)

    def to_message(self) -> Message:
        return Message.build(text=self.text, intent=self.intent, entities=[dict(e) for e in self.entities])


@dataclass
class Dataset:
    """Training examples, held-out examples and what every training file carries besides examples."""

    examples: List[Example]
    heldout: List[Example]
    lookups: List[Dict[str, Any]]
    synonyms: Dict[str, str]
    regexes: List[Dict[str, Any]]
    entity_types: FrozenSet[str]
    features: Dict[str, Tuple[str, ...]]  # training file (feature) or TARGET_GROUPS group -> its intents

    def training_data(self, examples: Iterable[Example]) -> TrainingData:
        return TrainingData(
            training_examples=[e.to_message() for e in examples],
            entity_synonyms=self.synonyms,
            regex_features=self.regexes,
            lookup_tables=self.lookups,
        )


def _examples(data: TrainingData) -> List[Example]:
    return [
        Example(m.get("text"), m.get("intent"), tuple(dict(e) for e in m.get("entities") or []))
        for m in data.training_examples
        if m.get("text") and m.get("intent")
    ]


def load_dataset() -> Dataset:
    """data/nlu/*.yml (examples, lookups, synonyms, regexes) and the held-out sets."""
    data = load_data(str(DATA_DIR))
    examples = _examples(data)
    heldout = [e for path in sorted(Path().glob(HELDOUT_GLOB)) for e in _examples(load_data(str(path)))]
    types = frozenset(e["entity"] for ex in examples for e in ex.entities)
    features = {path.stem: tuple(sorted(load_data(str(path)).intents)) for path in sorted(DATA_DIR.glob("*.yml"))}
    features = {name: intents for name, intents in features.items() if intents}
    features.update({group: tuple(sorted({i for f in files for i in features[f]}))
                     for group, files in TARGET_GROUPS.items() if all(f in features for f in files)})
    return Dataset(examples, heldout, data.lookup_tables, data.entity_synonyms, data.regex_features, types, features)


def stratified_folds(examples: Sequence[Example], n_folds: int) -> List[Tuple[List[int], List[int]]]:
    """Fold indices stratified by intent + language, shuffled with the fixed seed."""
    strata = [f"{e.intent}|{e.language}" for e in examples]
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a stratum smaller than n_folds is spread as far as it goes
        return [(list(a), list(b)) for a, b in splitter.split(strata, strata)]


# --- ASR-style copy ----------------------------------------------------------------------------------------

FILLERS = {"zh": ("嗯", "呃", "那个"), "en": ("um", "uh")}
P_FILLER_START = 0.5  # chance of a filler before the utterance
P_FILLER_MID = 0.3  # chance of one more at a word or entity boundary
_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
_SPACES = re.compile(r"\s+")
_APOSTROPHES = "'’`"
_ZH_DIGITS = "零一二三四五六七八九"
_EN_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
).split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_EN_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))


def _en_int(n: int) -> str:
    if n < 20:
        return _EN_ONES[n]
    if n < 100:
        tens, rest = divmod(n, 10)
        return _EN_TENS[tens] + (f" {_EN_ONES[rest]}" if rest else "")
    size, name = next((s, w) for s, w in _EN_SCALES if n >= s)
    head, rest = divmod(n, size)
    return f"{_en_int(head)} {name}" + (f" {_en_int(rest)}" if rest else "")


def spell_number(number: str, language: str) -> str:
    """'1,280' -> 一千二百八十 / one thousand two hundred eighty; a leading zero is read digit by digit."""
    digits = number.replace(",", "")
    if len(digits) > 1 and digits[0] == "0" and "." not in digits:
        return ("" if language == "zh" else " ").join(
            _ZH_DIGITS[int(d)] if language == "zh" else _EN_ONES[int(d)] for d in digits
        )
    if language == "zh":
        return cn2an.an2cn(digits, "low")
    whole, _, fraction = digits.partition(".")
    words = _en_int(int(whole))
    return f"{words} point {' '.join(_EN_ONES[int(d)] for d in fraction)}" if fraction else words


def asr_text(text: str, language: str) -> str:
    """Numbers as words, lower case, punctuation and symbols gone (apostrophes dropped, others a space)."""
    pad = "" if language == "zh" else " "
    text = _NUMBER.sub(lambda m: pad + spell_number(m.group(0), language) + pad, text).lower()
    return "".join(("" if c in _APOSTROPHES else " ") if unicodedata.category(c)[0] in "PS" else c for c in text)


def _glued(left: str, right: str) -> bool:
    return left.isascii() and right.isascii() and left.isalnum() and right.isalnum()


def _assemble(pieces: Iterable[Tuple[str, Dict[str, Any] | None]]) -> Tuple[str, List[Dict[str, Any]]]:
    """Join transformed pieces (entity dict or None) into one text with single spaces; offsets recomputed.

    An entity never ends up glued to a neighbouring Latin word ("lei yang" + "s manager" keeps its space).
    """
    text, entities = "", []
    for piece, entity in pieces:
        piece = _SPACES.sub(" ", piece)
        if entity is not None:
            piece = piece.strip()
            if not piece:
                continue
            if text and _glued(text[-1], piece[0]):
                text += " "
        elif piece and entities and entities[-1]["end"] == len(text) and _glued(text[-1], piece[0]):
            piece = " " + piece
        if not text or text.endswith(" "):
            piece = piece.lstrip(" ")
        if entity is not None:
            entities.append({**entity, "start": len(text), "end": len(text) + len(piece)})
        text += piece
    return text.rstrip(" "), entities


def _insert(text: str, entities: List[Dict[str, Any]], position: int, word: str) -> str:
    """Insert `word` at `position` (outside any entity), shifting the entities after it."""
    for entity in entities:
        if entity["start"] >= position:
            entity["start"] += len(word)
            entity["end"] += len(word)
    return text[:position] + word + text[position:]


def asr_copy(example: Example) -> Example:
    """The example as a voice-to-text front end would deliver it, entities still aligned."""
    language = example.language
    rng = random.Random(f"{SEED}:{example.text}")
    pieces: List[Tuple[str, Dict[str, Any] | None]] = []
    cursor = 0
    for entity in sorted(example.entities, key=lambda e: e["start"]):
        if entity["start"] < cursor:
            continue  # overlapping annotation: keep the first
        pieces.append((asr_text(example.text[cursor : entity["start"]], language), None))
        surface = example.text[entity["start"] : entity["end"]]
        value = None if entity["value"] == surface else entity["value"]  # None: the new surface (no synonym)
        pieces.append((asr_text(surface, language), {**entity, "value": value}))
        cursor = entity["end"]
    pieces.append((asr_text(example.text[cursor:], language), None))
    text, entities = _assemble(pieces)

    def filler() -> str:
        word = rng.choice(FILLERS[language])
        return word if language == "zh" else f"{word} "

    boundaries = {e[key] for e in entities for key in ("start", "end")} if language == "zh" else set()
    candidates = [
        p
        for p in range(1, len(text))
        if (text[p - 1] == " " or p in boundaries) and not any(e["start"] < p < e["end"] for e in entities)
    ]
    if candidates and rng.random() < P_FILLER_MID:
        text = _insert(text, entities, rng.choice(candidates), filler())
    if rng.random() < P_FILLER_START:
        text = _insert(text, entities, 0, filler())
    for entity in entities:
        surface = text[entity["start"] : entity["end"]]
        assert surface and surface == surface.strip(), (example.text, text, entity)
        entity["value"] = entity["value"] or surface
    return Example(text, example.intent, tuple(entities), origin=example.text)


# --- training and parsing ----------------------------------------------------------------------------------


@dataclass
class Prediction:
    """What one model said about one example, and how long it took."""

    example: Example
    intent: str  # what the user gets: `nlu_fallback` when the classifier is unsure
    confidence: float
    spans: FrozenSet[Span]
    latency_ms: float
    ranked_intent: str  # the classifier's best intent, as if there were no fallback threshold
    ranked_confidence: float = 0.0  # its confidence (checkpoints from before this field read as 0)
    runner_up_confidence: float = 0.0  # the second-best intent's: the FallbackClassifier's ambiguity test

    def to_json(self) -> Dict[str, Any]:
        return {**asdict(self), "spans": sorted(self.spans)}

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> Prediction:
        example = data["example"]
        spans = frozenset(tuple(s) for s in data["spans"])
        return cls(
            **{**data, "spans": spans, "example": Example(**{**example, "entities": tuple(example["entities"])})}
        )


@dataclass
class Trained:
    """The models of one variant trained on one training set."""

    paths: Dict[str, str]
    seconds: Dict[str, float]
    misaligned: List[str]


_MISALIGNED = re.compile(r"Misaligned entity annotation in message '(.*?)' with intent", re.S)


def train_model(config: Path, data: TrainingData, workdir: Path, name: str) -> Tuple[str, float, List[str]]:
    """Train one NLU model; returns its path, the wall time and the texts Rasa reported misaligned."""
    data_path = workdir / f"{name}.yml"
    data.persist_nlu(str(data_path))
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("always")
        started = time.perf_counter()
        model = train_nlu(str(config), str(data_path), str(workdir), fixed_model_name=name)
        seconds = time.perf_counter() - started
    if not model:
        raise RuntimeError(f"training {name} produced no model")
    misaligned = [m.group(1) for w in caught if (m := _MISALIGNED.search(str(w.message)))]
    return model, seconds, misaligned


def train_variant(
    variant: Variant, configs: Mapping[str, Path], dataset: Dataset, examples: Sequence[Example], workdir: Path
) -> Trained:
    """Train each of the variant's models on the examples of its language (or all of them)."""
    trained = Trained({}, {}, [])
    for key, config in configs.items():
        subset = [e for e in examples if key in (ALL, e.language)]
        path, seconds, misaligned = train_model(config, dataset.training_data(subset), workdir, f"{variant.name}-{key}")
        trained.paths[key], trained.seconds[key] = path, seconds
        trained.misaligned.extend(misaligned)
    return trained


def load_agents(trained: Trained) -> Tuple[Dict[str, Agent], float]:
    """Load the trained models; returns them and the wall time."""
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        agents = {key: Agent.load(path) for key, path in trained.paths.items()}
    return agents, time.perf_counter() - started


async def _parse(agents: Mapping[str, Agent], examples: Sequence[Example], types: FrozenSet[str]) -> List[Prediction]:
    for agent in agents.values():
        for text in WARMUP_TEXTS:
            await agent.parse_message(text)
    predictions = []
    for example in examples:
        agent = agents.get(example.language) or agents[ALL]
        started = time.perf_counter()
        result = await agent.parse_message(example.text)
        latency_ms = 1000 * (time.perf_counter() - started)
        intent = result.get("intent") or {}
        spans = frozenset(
            (e["entity"], e["start"], e["end"]) for e in result.get("entities", []) if e.get("entity") in types
        )
        ranked = [r for r in result.get("intent_ranking", []) if r.get("name") != FALLBACK_INTENT]
        name = intent.get("name") or ""
        confidence = float(intent.get("confidence") or 0)
        top, second = (ranked + [{}, {}])[:2]
        predictions.append(Prediction(example, name, confidence, spans, latency_ms, top.get("name") or name,
                                      float(top.get("confidence") or 0), float(second.get("confidence") or 0)))
    return predictions


def parse(agents: Mapping[str, Agent], examples: Sequence[Example], types: FrozenSet[str]) -> List[Prediction]:
    """Route every example to its language's model (or the one model) and parse it."""
    return asyncio.run(_parse(agents, examples, types))


# --- metrics -----------------------------------------------------------------------------------------------


def _prf(tp: int, fp: int, fn: int) -> Dict[str, Any]:
    if not tp + fp + fn:  # neither annotated nor predicted here
        return {"precision": None, "recall": None, "f1": None, "support": 0}
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}


def entity_metrics(predictions: Sequence[Prediction], types: FrozenSet[str]) -> Dict[str, Any]:
    """Exact span + type matching, per annotated entity type and micro over them."""
    counts = {t: Counter() for t in sorted(types)}
    for p in predictions:
        gold = p.example.spans(types)
        for span in gold | p.spans:
            counts[span[0]]["tp" if span in gold and span in p.spans else "fn" if span in gold else "fp"] += 1
    total = sum(counts.values(), Counter())
    return {
        "micro": _prf(total["tp"], total["fp"], total["fn"]),
        "per_type": {t: _prf(c["tp"], c["fp"], c["fn"]) for t, c in counts.items()},
    }


def metrics(predictions: Sequence[Prediction], types: FrozenSet[str]) -> Dict[str, Any]:
    """Intent accuracy, macro-F1 over the gold intents (a fallback is a wrong answer), entity F1, confusions.

    `intent_accuracy_no_fallback` (the classifier's best guess even when unsure) is a diagnostic only: it
    tells a threshold problem from a classifier problem.
    """
    if not predictions:
        return {"n": 0}
    gold = [p.example.intent for p in predictions]
    predicted = [p.intent for p in predictions]
    confusions = Counter(
        (p.example.intent, p.intent) for p in predictions if p.intent not in (p.example.intent, FALLBACK_INTENT)
    )
    fallbacks = Counter(p.example.intent for p in predictions if p.intent == FALLBACK_INTENT)
    return {
        "n": len(predictions),
        "intent_accuracy": sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold),
        "intent_macro_f1": float(f1_score(gold, predicted, labels=sorted(set(gold)), average="macro", zero_division=0)),
        "fallback_rate": predicted.count(FALLBACK_INTENT) / len(gold),
        "intent_accuracy_no_fallback": sum(p.ranked_intent == p.example.intent for p in predictions) / len(gold),
        "entities": entity_metrics(predictions, types),
        "confusions": [[g, p, n] for (g, p), n in confusions.most_common(10)],
        "fallbacks_by_intent": dict(fallbacks.most_common()),
    }


SWEEP_THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


def replayed(prediction: Prediction, threshold: float, ambiguity: float) -> str:
    """The intent a user would get at this FallbackClassifier threshold, from the classifier's own ranking."""
    unsure = prediction.ranked_confidence < threshold or \
        prediction.ranked_confidence - prediction.runner_up_confidence < ambiguity
    return FALLBACK_INTENT if unsure else prediction.ranked_intent


def fallback_sweep(predictions: Sequence[Prediction], ambiguity: float,
                   features: Mapping[str, Sequence[str]]) -> List[Dict[str, Any]]:
    """What the users would get at each FallbackClassifier threshold (same ambiguity threshold): accuracy,
    wrong answers, fallbacks and each feature's macro-F1, replayed from the classifier's own ranking. Chosen on
    the CV folds, judged on the held-out files."""
    rows = []
    for threshold in SWEEP_THRESHOLDS:
        answers = [replayed(p, threshold, ambiguity) for p in predictions]
        right = sum(a == p.example.intent for a, p in zip(answers, predictions, strict=True))
        fallback = answers.count(FALLBACK_INTENT)
        n = len(predictions)
        rows.append({"threshold": threshold, "accuracy": right / n if n else None, "wrong": n - right - fallback,
                     "fallback": fallback, "n": n,
                     "feature_f1": feature_f1(predictions, features, answers)})
    return rows


def feature_f1(predictions: Sequence[Prediction], features: Mapping[str, Sequence[str]],
               answers: Sequence[str] | None = None) -> Dict[str, Any]:
    """Intent macro-F1 over each feature's intents, per language: the issues set their targets per feature
    (the base intents of chitchat + help, the claim intents of claims + approvals). A feature's intent
    predicted for another feature's message counts against it (a false positive), a fallback as a miss.
    `answers` replaces the predictions' intents (the threshold sweep's replayed ones)."""
    answers = [p.intent for p in predictions] if answers is None else answers
    result: Dict[str, Any] = {}
    for lang in LANGUAGES:
        group = [(p, a) for p, a in zip(predictions, answers, strict=True) if p.example.language == lang]
        gold = [p.example.intent for p, _ in group]
        predicted = [a for _, a in group]
        result[lang] = {
            name: float(f1_score(gold, predicted, labels=list(intents), average="macro", zero_division=0))
            for name, intents in features.items()
            if set(intents) & set(gold)
        }
    return result


def by_language(predictions: Sequence[Prediction], types: FrozenSet[str]) -> Dict[str, Any]:
    """metrics() for zh, en and all together."""
    groups = {lang: [p for p in predictions if p.example.language == lang] for lang in LANGUAGES}
    return {**{lang: metrics(group, types) for lang, group in groups.items()}, ALL: metrics(predictions, types)}


def errors(predictions: Sequence[Prediction], types: FrozenSet[str]) -> List[Dict[str, Any]]:
    """Every example with a wrong intent or wrong entities, for reading."""
    return [
        {
            "text": p.example.text,
            **({"origin": p.example.origin} if p.example.origin else {}),
            "language": p.example.language,
            "intent": p.example.intent,
            "predicted": p.intent,
            **({"best_guess": p.ranked_intent} if p.intent == FALLBACK_INTENT else {}),
            "confidence": round(p.confidence, 3),
            "entities": sorted(p.example.spans(types)),
            "predicted_entities": sorted(p.spans),
        }
        for p in predictions
        if p.intent != p.example.intent or p.spans != p.example.spans(types)
    ]


def latency(values: Sequence[float]) -> Dict[str, float]:
    """Mean, median and 95th percentile in ms."""
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "mean": statistics.fmean(ordered),
        "p50": ordered[len(ordered) // 2],
        "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
    }


# --- one variant -------------------------------------------------------------------------------------------


def log(message: str) -> None:
    """Progress goes to stderr; stdout is for the table."""
    print(message, file=sys.stderr, flush=True)


@dataclass
class RunResult:
    """One training run of a variant (a fold, or all data) and its predictions on that run's test sets."""

    seconds: Dict[str, float]
    load_seconds: float
    misaligned: List[str]
    predictions: Dict[str, List[Prediction]]

    def to_json(self) -> Dict[str, Any]:
        predictions = {k: [p.to_json() for p in v] for k, v in self.predictions.items()}
        return {**asdict(self), "predictions": predictions}

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> RunResult:
        predictions = {k: [Prediction.from_json(p) for p in v] for k, v in data["predictions"].items()}
        return cls(**{**data, "predictions": predictions})


def inputs_version() -> str:
    """Hash of the code a run depends on besides config and data: nlu/ (tokenizer, custom components, lexicon),
    the claim parser the expense entities come from, and this tool."""
    digest = hashlib.sha256()
    for path in sorted(Path("nlu").rglob("*")) + [Path("assistant/expense_text.py"), Path(__file__)]:
        if path.is_file() and path.suffix != ".pyc":
            digest.update(path.read_bytes())
    return digest.hexdigest()


def checkpoint_name(
    variant: Variant,
    name: str,
    base_config: Path,
    dataset: Dataset,
    train: Sequence[Example],
    tests: Mapping[str, Sequence[Example]],
) -> str:
    """A run's checkpoint file: named by a hash of everything its result depends on."""
    key = [
        repr(variant),
        base_config.read_text(encoding="utf-8"),
        inputs_version(),
        [dataset.lookups, dataset.synonyms, dataset.regexes],
        [asdict(e) for e in train],
        {k: [asdict(e) for e in v] for k, v in tests.items()},
    ]
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
    return f"{variant.name}-{name}-{digest[:16]}.json"


def run_variant_once(
    variant: Variant,
    configs: Mapping[str, Path],
    dataset: Dataset,
    train: Sequence[Example],
    tests: Mapping[str, Sequence[Example]],
    workdir: Path,
) -> RunResult:
    """Train the variant's models, load them, parse every test set; the models are deleted afterwards."""
    workdir.mkdir()
    trained = train_variant(variant, configs, dataset, train, workdir)
    agents, load_seconds = load_agents(trained)
    predictions = {name: parse(agents, examples, dataset.entity_types) for name, examples in tests.items()}
    shutil.rmtree(workdir)
    return RunResult(trained.seconds, load_seconds, trained.misaligned, predictions)


def evaluate_variant(
    variant: Variant, dataset: Dataset, n_folds: int, workdir: Path, base_config: Path, checkpoints: Path, resume: bool
) -> Dict[str, Any]:
    """Cross-validate (clean and ASR test folds), then train on everything and test on the held-out files.

    Each run is checkpointed under `checkpoints`, named by a hash of everything it depends on; with `resume`
    a run whose checkpoint exists is read back instead of trained again.
    """
    workdir.mkdir(parents=True)
    checkpoints.mkdir(parents=True, exist_ok=True)
    write_jieba_user_dict(dataset.lookups, workdir / "jieba")
    configs = {key: workdir / f"config-{key}.yml" for key in variant.models}
    written = {key: write_config(p, base_config, configs[key], workdir / "jieba") for key, p in variant.models.items()}
    splits = [
        ([dataset.examples[j] for j in train], [dataset.examples[j] for j in test])
        for train, test in stratified_folds(dataset.examples, n_folds)
    ]
    plan: List[Tuple[str, Sequence[Example], Dict[str, Sequence[Example]]]] = [
        (f"fold{i}", train, {"clean": test, "asr": [asr_copy(e) for e in test]})
        for i, (train, test) in enumerate(splits, 1)
    ]
    plan.append(("all-data", dataset.examples, {"heldout": dataset.heldout}))
    runs: Dict[str, RunResult] = {}
    for name, train, tests in plan:
        checkpoint = checkpoints / checkpoint_name(variant, name, base_config, dataset, train, tests)
        if resume and checkpoint.exists():
            runs[name] = RunResult.from_json(json.loads(checkpoint.read_text(encoding="utf-8")))
            log(f"  [{variant.name}] {name}: read back from {checkpoint.name}")
            continue
        runs[name] = run_variant_once(variant, configs, dataset, train, tests, workdir / name)
        checkpoint.write_text(json.dumps(runs[name].to_json(), ensure_ascii=False), encoding="utf-8")
        seconds, load_seconds = sum(runs[name].seconds.values()), runs[name].load_seconds
        log(f"  [{variant.name}] {name}: trained in {seconds:.0f} s, loaded in {load_seconds:.1f} s")

    types = dataset.entity_types
    predictions = {s: [p for r in runs.values() for p in r.predictions.get(s, [])] for s in SETS}
    fold_runs = [runs[name] for name, _, _ in plan[:-1]]
    fold_seconds = [sum(r.seconds.values()) for r in fold_runs]
    return {
        "description": variant.description,
        "configs": written,
        "training_seconds": {
            "per_fold": fold_seconds,
            "mean_fold": statistics.fmean(fold_seconds),
            "all_data": {**runs["all-data"].seconds, "total": sum(runs["all-data"].seconds.values())},
        },
        "load_seconds_mean": statistics.fmean(r.load_seconds for r in runs.values()),
        "parse_latency_ms": latency([p.latency_ms for s in ("clean", "heldout") for p in predictions[s]]),
        "fold_intent_accuracy": {
            s: [metrics(r.predictions[s], types)["intent_accuracy"] for r in fold_runs] for s in ("clean", "asr")
        },
        "results": {s: by_language(predictions[s], types) for s in SETS},
        "feature_f1": {s: feature_f1(predictions[s], dataset.features) for s in SETS},
        "fallback_sweep": {s: fallback_sweep(predictions[s], _ambiguity(base_config), dataset.features)
                           for s in ("clean", "heldout")},
        "misaligned_entities": [list(m) for m in Counter(t for r in runs.values() for t in r.misaligned).most_common()],
        "errors": {s: errors(predictions[s], types) for s in SETS},
    }


def _ambiguity(config: Path) -> float:
    """The FallbackClassifier's ambiguity_threshold in the base config."""
    pipeline = yaml.safe_load(config.read_text(encoding="utf-8"))["pipeline"]
    fallback = next((c for c in pipeline if c.get("name") == "FallbackClassifier"), {})
    return float(fallback.get("ambiguity_threshold", 0.1))


# --- report ------------------------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _counts(per_language: Mapping[str, int]) -> str:
    return " / ".join(f"{lang} {per_language.get(lang, 0)}" for lang in LANGUAGES)


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def summary_tables(report: Dict[str, Any]) -> List[str]:
    """Accuracy table (variant x set x language) and cost table; used for stdout and eval.md."""
    header = ["variant", "set"] + [
        f"{lang} {m}" for lang in LANGUAGES for m in ("n", "intent acc", "intent F1", "entity F1", "fallback")
    ]
    rows = []
    for name, v in report["variants"].items():
        for set_name in SETS:
            cells: List[Any] = [name, set_name]
            for lang in LANGUAGES:
                m = v["results"][set_name][lang]
                cells += [
                    m["n"],
                    _pct(m.get("intent_accuracy")),
                    _pct(m.get("intent_macro_f1")),
                    _pct(m.get("entities", {}).get("micro", {}).get("f1")),
                    _pct(m.get("fallback_rate")),
                ]
            rows.append(cells)
    cost_header = ["variant", "train s/fold", "train s (all data)", "load s", "parse ms mean", "p50", "p95"]
    cost_rows = [
        [
            name,
            f"{v['training_seconds']['mean_fold']:.1f}",
            f"{v['training_seconds']['all_data']['total']:.1f}",
            f"{v['load_seconds_mean']:.1f}",
            f"{v['parse_latency_ms']['mean']:.1f}",
            f"{v['parse_latency_ms']['p50']:.1f}",
            f"{v['parse_latency_ms']['p95']:.1f}",
        ]
        for name, v in report["variants"].items()
    ]
    return _table(header, rows) + [""] + _table(cost_header, cost_rows) + [""] + feature_table(report)


def feature_table(report: Dict[str, Any]) -> List[str]:
    """Intent macro-F1 per training file (feature) and entity F1 per type, zh / en, for every variant and set."""
    rows = []
    for name, v in report["variants"].items():
        for set_name in SETS:
            by_feature = v.get("feature_f1", {}).get(set_name, {})
            features = sorted({f for lang in LANGUAGES for f in by_feature.get(lang, {})})
            cells = [f"{f} {_pct(by_feature.get('zh', {}).get(f))}/{_pct(by_feature.get('en', {}).get(f))}"
                     for f in features]
            results = v["results"][set_name]
            per_type = {lang: results[lang].get("entities", {}).get("per_type", {}) for lang in LANGUAGES}
            types = sorted({t for lang in LANGUAGES for t in per_type[lang]})
            cells += [f"{t} {_pct(per_type['zh'].get(t, {}).get('f1'))}/{_pct(per_type['en'].get(t, {}).get('f1'))}"
                      for t in types]
            rows.append([name, set_name, "; ".join(cells)])
    return _table(["variant", "set", "intent macro-F1 per feature, entity F1 per type (zh/en, %)"], rows)


def markdown(report: Dict[str, Any]) -> str:
    """results/eval.md: the summary plus per-type entity figures, confusions and misaligned annotations."""
    run = report["run"]
    lines = [
        "# NLU evaluation",
        "",
        f"{run['finished']}, {run['folds']}-fold cross-validation (seed {SEED}, stratified by intent + language), "
        f"training examples {_counts(run['examples'])}, held-out {_counts(run['heldout_examples'])}; run took "
        f"{run['seconds'] / 60:.1f} min on {run['cpus']} CPUs; base config {run['base_config']}.",
        "",
        "Figures in %. *clean*: cross-validated held-out folds; *asr*: the same folds as voice-to-text output "
        "(lower case, no punctuation, fillers, numbers as words); *heldout*: trained on all of data/nlu, tested "
        f"on {', '.join(run['heldout_files'])}. Intent F1 is macro over the gold intents; an `nlu_fallback` "
        "prediction counts as wrong (*fallback* is its rate). Entity F1: exact span and type, micro over the "
        f"annotated types ({', '.join(run['entity_types'])}). Latency: one `Agent.parse_message` per message, "
        "clean + held-out.",
        "",
        *summary_tables(report),
        "",
        "## Variants",
        "",
        *(f"- **{name}**: {v['description']}" for name, v in report["variants"].items()),
        "",
        "## Entities per type",
        "",
    ]
    rows = [
        [name, set_name, lang, entity, _pct(m["precision"]), _pct(m["recall"]), _pct(m["f1"]), m["support"]]
        for name, v in report["variants"].items()
        for set_name in SETS
        for lang in LANGUAGES
        for entity, m in v["results"][set_name][lang].get("entities", {}).get("per_type", {}).items()
    ]
    lines += _table(["variant", "set", "lang", "entity", "P", "R", "F1", "support"], rows)
    lines += [
        "",
        "## Fallbacks",
        "",
        "Intent accuracy if the FallbackClassifier threshold were not applied (diagnostic).",
        "",
    ]
    rows = [
        [
            name,
            set_name,
            lang,
            _pct(m.get("fallback_rate")),
            _pct(m.get("intent_accuracy")),
            _pct(m.get("intent_accuracy_no_fallback")),
            ", ".join(f"{i} {n}" for i, n in list(m.get("fallbacks_by_intent", {}).items())[:4]),
        ]
        for name, v in report["variants"].items()
        for set_name in SETS
        for lang in LANGUAGES
        for m in [v["results"][set_name][lang]]
    ]
    lines += _table(["variant", "set", "lang", "fallback", "intent acc", "acc w/o threshold", "most fallbacks"], rows)
    lines += ["", "## FallbackClassifier threshold", "",
              "Replayed from the classifier's ranking (a prediction from a checkpoint older than the sweep reads as "
              "a fallback): accuracy %, wrong answers and fallbacks per threshold. Choose on *clean* (CV folds), "
              "check on *heldout*.", ""]
    rows = [
        [name, set_name, r["threshold"], _pct(r["accuracy"]), r["wrong"], r["fallback"]]
        for name, v in report["variants"].items()
        for set_name, sweep in v.get("fallback_sweep", {}).items()
        for r in sweep
    ]
    lines += _table(["variant", "set", "threshold", "accuracy", "wrong", "fallback"], rows)
    lines += ["", "Intent macro-F1 % per feature at each threshold, replayed the same way:", ""]
    rows, features = [], []
    for name, v in report["variants"].items():
        for set_name, sweep in v.get("fallback_sweep", {}).items():
            for r in sweep:
                for lang, scores in r.get("feature_f1", {}).items():
                    features = features or list(scores)
                    rows.append([name, set_name, r["threshold"], lang] + [_pct(scores.get(f)) for f in features])
    if rows:
        lines += _table(["variant", "set", "threshold", "lang", *features], rows)
    lines += ["", "## Most frequent intent confusions (gold → predicted, count; fallbacks not included)", ""]
    for name, v in report["variants"].items():
        for set_name in SETS:
            for lang in LANGUAGES:
                pairs = v["results"][set_name][lang].get("confusions", [])[:5]
                if pairs:
                    shown = "; ".join(f"{g} → {p} ×{n}" for g, p, n in pairs)
                    lines.append(f"- {name} / {set_name} / {lang}: {shown}")
    lines += ["", "## Misaligned entity annotations reported by Rasa during training", ""]
    for name, v in report["variants"].items():
        found = v["misaligned_entities"]
        shown = "; ".join(f"`{text}` ×{n}" for text, n in found[:15]) if found else "none"
        lines.append(f"- {name}: {shown}")
    lines += ["", "Every misclassified example is listed under `errors` in eval.json.", ""]
    return "\n".join(lines)


# --- main --------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    parser.add_argument(
        "--variants",
        default=",".join(DEFAULT_VARIANTS),
        help=f"comma-separated, from: {', '.join(VARIANTS)} (default: {','.join(DEFAULT_VARIANTS)})",
    )
    parser.add_argument("--quick", action="store_true", help="2 folds, for a smoke run")
    parser.add_argument("--config", type=Path, default=BASE_CONFIG, help="base config (default config.yml)")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="reuse the runs an interrupted eval checkpointed (same code, config, data)",
    )
    parser.add_argument("--out", type=Path, default=Path("results"), help="output directory (default results/)")
    args = parser.parse_args(argv)
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown or not args.variants:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
    if args.quick:
        args.folds = 2
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    return args


def build_report(
    args: argparse.Namespace, dataset: Dataset, variants: Dict[str, Any], seconds: float
) -> Dict[str, Any]:
    """Everything eval.json holds: how the run was made, then the figures per variant."""
    return {
        "run": {
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seconds": seconds,  # of this invocation: with --resume, runs read back cost nothing here
            "resumed": args.resume,
            "folds": args.folds,
            "base_config": str(args.config),
            "seed": SEED,
            "examples": dict(Counter(e.language for e in dataset.examples)),
            "heldout_examples": dict(Counter(e.language for e in dataset.heldout)),
            "heldout_files": [str(p) for p in sorted(Path().glob(HELDOUT_GLOB))],
            "entity_types": sorted(dataset.entity_types),
            "asr": {"fillers": FILLERS, "p_filler_start": P_FILLER_START, "p_filler_mid": P_FILLER_MID},
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "variants_done": list(variants),
        },
        "variants": variants,
    }


def write_report(report: Dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "eval.md").write_text(markdown(report), encoding="utf-8")


def _terminated(signum: int, frame: Any) -> None:
    log(f"terminated by signal {signum}; results/ holds the variants finished so far")
    sys.exit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminated)  # unwind, so the temporary directory is removed
    out, args.config = args.out.resolve(), args.config.resolve()
    os.chdir(ROOT)  # config.yml and the pipeline's relative paths
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)  # stdout is for the table
    configure_structlog(logging.WARNING)  # no per-message debug lines from the processor
    started = time.perf_counter()
    dataset = load_dataset()
    variants: Dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="deskmate-eval-") as tmp:
        os.environ.update(
            {"RASA_CACHE_DIRECTORY": str(Path(tmp) / "cache"), "RASA_MAX_CACHE_SIZE": "0", "LOG_LEVEL": "WARNING"}
        )
        for name in args.variants:
            log(f"[{name}] {args.folds} folds + all data")
            variants[name] = evaluate_variant(
                VARIANTS[name], dataset, args.folds, Path(tmp) / name, args.config, out / CHECKPOINTS, args.resume
            )
            report = build_report(args, dataset, variants, time.perf_counter() - started)
            write_report(report, out)  # after each variant, so a long run that dies keeps what it finished
    shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)  # complete: nothing left to resume
    print("\n".join(summary_tables(report)))
    print(f"\n{args.folds} folds, {report['run']['seconds'] / 60:.1f} min; details in {out}/eval.md and eval.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
