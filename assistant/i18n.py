"""Every user-facing string of the core, in Chinese and English (assistant/locale/*.yml).

`t(key, lang, **values)` renders one message; `both(key, ...)` renders it in both languages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import yaml

LOCALE = Path(__file__).resolve().parent / "locale"


def _load() -> dict[str, dict[str, str]]:
    """All catalogs in assistant/locale/*.yml, one file per domain; a key defined twice is an error."""
    messages: dict[str, dict[str, str]] = {}
    for path in sorted(LOCALE.glob("*.yml")):
        for key, variants in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            if key in messages:
                raise ValueError(f"message {key!r} defined twice ({path.name})")
            messages[key] = variants
    return messages


MESSAGES: dict[str, dict[str, str]] = _load()


def language_from_header(accept_language: str) -> str:
    """'zh' when an Accept-Language header asks for Chinese first, else 'en'."""
    return "zh" if (accept_language or "").strip().lower().startswith("zh") else "en"


def t(key: str, lang: str, **values: Any) -> str:
    """The message `key` in `lang` ('zh' or 'en'; anything else falls back to 'en'), with values filled in.
    A value given as {'zh': ..., 'en': ...} (a person's name, say) is taken in the same language."""
    variants = MESSAGES[key]
    text = variants.get(lang) or variants["en"]
    if not values:
        return text
    local = {k: (v.get(lang, v.get("en")) if isinstance(v, dict) and "en" in v else v) for k, v in values.items()}
    return text.format(**local)


def both(key: str, **values: Any) -> dict[str, str]:
    """The message in both languages, for notifications whose reader's language is decided on delivery."""
    return {lang: t(key, lang, **values) for lang in ("zh", "en")}


def listing(lang: str, parts: Iterable[str]) -> str:
    """Items of a list in running text: 张伟、陈静 / Wei Zhang, Jing Chen."""
    return t("who.list_separator", lang).join(parts)
