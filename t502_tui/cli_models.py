"""``t502 models`` and ``t502 balance``: what the providers offer, cost and have left."""

from __future__ import annotations

import sys
from typing import Any

from t502_tui.config import Config
from t502_tui.terminal_text import defuse, visible_name

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def error(message: str) -> None:
    print(f"error: {defuse(message)}", file=sys.stderr, flush=True)


def _shell_session(config: Config, only: str | None = None) -> Any:
    """A session without history for the shell's listing commands, and the providers to
    ask (one line on stderr, and None, for an unknown ``only``)."""
    from t502_tui.session import ChatSession

    session = ChatSession(config)
    if only is not None and only not in session.provider_names:
        error(f"there is no provider {only!r} (the config has: {', '.join(session.provider_names)})")
        return session, None
    return session, [only] if only else session.provider_names


async def list_models(config: Config, only: str | None, prices: bool) -> int:
    """``t502 models``: every provider's models (or ``only``'s), with prices and context
    when ``prices``; exit 1 when a listing failed."""
    from t502_tui.prices import money
    from t502_tui.tokens import short_count

    session, names = _shell_session(config, only)
    if names is None:
        return EXIT_USAGE
    failed = 0
    relay = False  # a price came from a relay's list, priced in its ratios
    try:
        for name in names:
            if problem := session.provider(name).problem:  # its key could not be had: nothing is sent
                failed += 1
                error(f"{name}: {problem}" if len(names) > 1 else problem)
                continue
            facts, client = session.facts(name), session.client_for(name)
            if prices:
                facts.load_pricing(client)
            failure = await facts.load_models(client, force=True)
            if failure is not None:
                failed += 1
                provider = session.provider(name)
                hint = f" (no API key: {provider.key_hint})" if getattr(failure, "status", None) == 401 and not provider.api_key else ""
                error(f"{name}: {failure.message}{hint}" if len(names) > 1 else failure.message + hint)
                continue
            await facts.pricing_ready()
            relay = relay or bool(facts.relay)
            for model in sorted({m.id for m in facts.models or []}, key=str.lower):
                ref = visible_name(session.ref(name, model))
                if not prices:
                    print(ref)
                    continue
                price = session.price_for(name, model)
                context = session.context_for(name, model)
                shown = price.describe() if price is not None and price.known else "-"
                print(f"{ref:<40} {shown:>22} {short_count(context) if context else '-':>7}")
            if facts.models_note:
                print(f"note: {name}: {facts.models_note}", file=sys.stderr)
    finally:
        await session.aclose()
    if prices and not failed:
        ratio = f"; {money(2)} per 1M is a relay ratio of 1" if relay else ""
        print(f"prices: US$ per 1M input/output tokens (or per request){ratio}", file=sys.stderr)
    return EXIT_FAILED if failed == len(names) or (failed and only) else EXIT_OK


async def show_balance(config: Config) -> int:
    """``t502 balance``: what is left on each provider's key; exit 1 when none says."""
    from t502_tui.prices import format_cost

    session, names = _shell_session(config)
    known = 0
    try:
        for name in names:
            facts = session.facts(name)
            if problem := session.provider(name).problem:
                print(f"{name}: {problem}", file=sys.stderr)
                continue
            if not facts.balance_possible:
                print(f"{name}: no key, so no balance", file=sys.stderr)
                continue
            if await facts.refresh_balance(session.client_for(name)) and facts.balance is not None:
                known += 1
                b = facts.balance
                print(f"{name}: {format_cost(b.left)} left ({format_cost(b.used)} spent of {format_cost(b.limit)})")
            elif facts.balance_error:
                print(f"{name}: no balance: {facts.balance_error}", file=sys.stderr)
            else:
                print(f"{name}: the server does not tell the balance", file=sys.stderr)
    finally:
        await session.aclose()
    return EXIT_OK if known else EXIT_FAILED
