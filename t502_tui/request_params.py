"""The parameters a request is sent with: ``[params]``, then the conversation's own.

``reasoning_effort`` is the one parameter a model may refuse outright (OpenAI answers 400
"Unsupported parameter" to models that do not reason), so it is sent only to model
families known to take it on OpenAI-compatible endpoints: OpenAI's o-series (not o1-mini
or o1-preview) and GPT-5 (not its chat variant), gpt-oss, Grok 3 mini, and Gemini 2.5 and
later. ``minimal`` exists only for GPT-5; other models get ``low`` instead. The id is
matched after any ``vendor/`` prefix, so ``openai/o3-mini`` on OpenRouter counts.
"""

from __future__ import annotations

import re
from typing import Any

_TAKES_EFFORT = re.compile(
    r"^(?:o1(?!-mini|-preview)|o[2-9]|gpt-5(?!.*-chat)|gpt-oss|grok-3-mini|gemini-(?:2\.5|[3-9]))",
    re.I,
)
_GPT5 = re.compile(r"^gpt-5", re.I)

SHORT_NAMES = {"temperature": "temp", "top_p": "top_p", "max_tokens": "max", "reasoning_effort": "effort"}
"""How the status line names the parameters it shows."""


def _base_id(model: str) -> str:
    return model.rsplit("/", 1)[-1].strip()


def takes_reasoning_effort(model: str) -> bool:
    """True for models known to accept ``reasoning_effort``."""
    return bool(_TAKES_EFFORT.match(_base_id(model)))


def effort_sent(model: str, effort: str) -> str | None:
    """The ``reasoning_effort`` a request to ``model`` carries for ``effort``: None for a
    model that does not take it, ``low`` for ``minimal`` but to GPT-5."""
    if not effort or not takes_reasoning_effort(model):
        return None
    return "low" if effort == "minimal" and not _GPT5.match(_base_id(model)) else effort


REQUEST_OWN_KEYS = frozenset({"model", "messages", "stream", "stream_options"})
"""What every chat request carries as t502 sets it: never a parameter (the config refuses
them; a conversation imported with them in its settings has them left out)."""


def params_for(defaults: dict[str, Any], settings: dict[str, Any], model: str) -> dict[str, Any]:
    """What a request to ``model`` carries: ``defaults`` overridden by the conversation's
    ``settings`` (a None there leaves the parameter out), less what the model does not take."""
    params = {key: value for key, value in {**defaults, **settings}.items()
              if value is not None and key not in REQUEST_OWN_KEYS}
    if sent := effort_sent(model, params.pop("reasoning_effort", None) or ""):
        params["reasoning_effort"] = sent
    return params


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    return text if len(text) <= 20 else text[:19] + "…"


def settings_summary(settings: dict[str, Any], defaults: dict[str, Any], model: str) -> list[str]:
    """The conversation's own parameters that differ from the defaults, briefly:
    ``["temp 0.2", "effort high (not sent)"]``."""
    out = []
    for key, value in settings.items():
        if value is None or defaults.get(key) == value:
            continue
        text = f"{SHORT_NAMES.get(key, key)} {_shown(value)}"
        if key == "reasoning_effort" and (sent := effort_sent(model, str(value))) != value:
            text += f" (sent as {sent})" if sent else " (not sent)"
        out.append(text)
    return out
