"""The shell across providers: ask -m PROVIDER/MODEL, -f, --preset; models; balance."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from loopback import DEMO_MODELS, DEMO_PRICING, LoopbackServer, Reply, chunk, sse, stream_reply, text_stream
from test_cli import KEY, assert_clean, t502
from test_errors import CHALLENGE_PAGE


@pytest.fixture
def local() -> Iterator[LoopbackServer]:
    server = LoopbackServer().start()
    yield server
    server.stop()


def write_config(tmp_path: Path, local: LoopbackServer, extra: str = "") -> str:
    path = tmp_path / "config.toml"
    path.write_text(f"""
[providers.local]
base_url = "{local.url}"
{extra}
[presets.reviewer]
system_prompt = "You review code."
temperature = 0.2
model = "gpt-5"

[prices."local/x"]
input = 1.0
output = 2.0
""")
    path.chmod(0o600)
    return str(path)


def test_ask_another_provider_with_a_preset_and_files(server: LoopbackServer, local: LoopbackServer,
                                                      tmp_path: Path) -> None:
    code = tmp_path / "main.py"
    code.write_text("print('hi')\n")
    local.script("/chat/completions", text_stream("Looks fine.", model="x", prompt_tokens=1000))
    config = write_config(tmp_path, local)
    result = t502("ask", "--preset", "reviewer", "-m", "local/x", "-f", str(code), "review", server=server,
                  T502_CONFIG=config)
    assert result.returncode == 0, result.stderr
    listed = t502("history", "list", T502_CONFIG=config).stdout.split()
    assert listed[5] == "local/x"  # named as the user names it: the provider is not the default
    found = t502("history", "search", "fine", T502_CONFIG=config).stdout
    assert "    local/x: Looks" in found  # search names it the same way
    assert result.stdout == "Looks fine.\n"
    assert not server.chat_requests()
    body = local.chat_requests()[0].json
    assert body["model"] == "x" and body["temperature"] == 0.2
    assert body["messages"] == [{"role": "system", "content": "You review code."},
                                {"role": "user", "content": "main.py\n```python\nprint('hi')\n```\n\nreview"}]
    # 1,000 prompt and 2 completion tokens at the user's own prices
    assert result.stderr.rstrip().endswith("local/x · tokens: 1,000 prompt + 2 completion = 1,002 total · $0.0010")
    assert_clean(result)
    shown = t502("config", "show", T502_CONFIG=write_config(tmp_path, local, 'api_key = "sk-provider-secret-99"'))
    assert "sk-provider-secret-99" not in shown.stdout and 'api_key = "sk-…t-99"' in shown.stdout
    missing = t502("ask", "--preset", "nope", "hi", server=server, T502_CONFIG=config)
    assert missing.returncode == 2 and "no preset 'nope' (the config has: reviewer)" in missing.stderr
    none = t502("ask", "--preset", "nope", "hi", server=server)
    assert none.returncode == 2 and "(the config defines none: add [presets.NAME] to it)" in none.stderr
    folder = t502("ask", "-f", str(tmp_path), "hi", server=server, T502_CONFIG=config)
    assert folder.returncode == 2 and "is a folder: attach the files in it instead" in folder.stderr


def test_a_failing_key_command_stops_ask_with_its_reason(server: LoopbackServer, local: LoopbackServer,
                                                         tmp_path: Path) -> None:
    script = tmp_path / "key.py"
    script.write_text("import sys\nprint('vault is locked', file=sys.stderr)\nsys.exit(3)\n")
    config = write_config(tmp_path, local, f'api_key_cmd = "{sys.executable} {script}"')
    result = t502("ask", "-m", "local/x", "hi", server=server, T502_CONFIG=config)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: providers.local: api_key_cmd failed (exit 3): vault is locked"
    assert not local.requests
    assert t502("ask", "hi", server=server, T502_CONFIG=config).returncode == 0  # its command runs only for it
    listed = t502("models", "--provider", "local", server=server, T502_CONFIG=config)
    assert listed.returncode == 1 and "api_key_cmd failed (exit 3): vault is locked" in listed.stderr
    balance = t502("balance", server=server, T502_CONFIG=config)
    assert "local: providers.local: api_key_cmd failed" in balance.stderr
    assert not local.requests  # nothing sent to it without its key


def test_models_with_prices_balance_and_a_request_that_cannot_fit(
        server: LoopbackServer, local: LoopbackServer, tmp_path: Path) -> None:
    server.pricing, server.models, server.balance = DEMO_PRICING, DEMO_MODELS, (25.0, 658.0)
    config = write_config(tmp_path, local)
    listed = t502("models", "--prices", server=server, T502_CONFIG=config)
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line.split()[1:] for line in listed.stdout.splitlines()}
    assert lines["gpt-5"] == ["$1.25/$10", "400k"] and lines["gemini-2.5-pro"] == ["$0.04/request", "1.05M"]
    assert lines["tiny-context"] == ["-", "300"] and lines["local/gpt-5"] == ["-", "-"]
    assert "$2 per 1M is a relay ratio of 1" in listed.stderr
    only = t502("models", "--provider", "local", server=server, T502_CONFIG=config)
    assert only.stdout.split() == sorted(f"local/{m}" for m in ("gpt-5", "claude-sonnet-4", "deepseek-r1",
                                                                 "gemini-2.5-pro", "text-embedding-3-small",
                                                                 "dall-e-3"))
    local_prices = t502("models", "--prices", "--provider", "local", server=server, T502_CONFIG=config)
    assert "per 1M input/output tokens" in local_prices.stderr and "relay ratio" not in local_prices.stderr
    unknown = t502("models", "--provider", "nope", server=server, T502_CONFIG=config)
    assert unknown.returncode == 2 and "no provider 'nope' (the config has: token502, local)" in unknown.stderr
    balance = t502("balance", server=server, T502_CONFIG=config)
    assert balance.returncode == 0
    assert balance.stdout == "token502: $18.42 left ($6.58 spent of $25.00)\n"
    assert "local: no key, so no balance" in balance.stderr
    big = t502("ask", "-m", "tiny-context", "word " * 400, server=server, T502_CONFIG=config)
    assert "warning: this request is ≈" in big.stderr and "tiny-context takes 300" in big.stderr
    assert big.returncode == 0  # said, then sent: the server is the judge
    (tmp_path / "roomy.toml").write_text("[presets.roomy]\nmax_tokens = 100\n")
    (tmp_path / "roomy.toml").chmod(0o600)
    roomy = t502("ask", "-m", "tiny-context", "--preset", "roomy", "word " * 400, server=server,
                 T502_CONFIG=str(tmp_path / "roomy.toml"))
    assert "tiny-context takes 200 of its 300 (100 are kept for the reply, max_tokens)" in roomy.stderr
    assert_clean(balance)
    assert KEY not in listed.stdout + listed.stderr


def test_a_gateways_own_headers_go_with_each_request_and_are_never_shown(server: LoopbackServer,
                                                                          local: LoopbackServer,
                                                                          tmp_path: Path) -> None:
    local.script("/chat/completions", text_stream("Fine.", model="x"))
    config = write_config(tmp_path, local, 'headers = { "cf-aig-authorization" = "Bearer cf-secret-77", "X-Title" = "t502" }')
    result = t502("ask", "-m", "local/x", "hi", server=server, T502_CONFIG=config)
    assert result.returncode == 0, result.stderr
    sent = local.chat_requests()[0].headers
    assert sent["cf-aig-authorization"] == "Bearer cf-secret-77" and sent["x-title"] == "t502"
    shown = t502("config", "show", T502_CONFIG=config)
    assert "cf-secret-77" not in shown.stdout and 'cf-aig-authorization = "Bea…t-77"' in shown.stdout


@pytest.mark.parametrize(("headers", "message"), [
    ('{ "Authorization" = "Bearer x" }', "'providers.local.headers.Authorization' is sent by t502 from the provider's key"),
    ('{ "Content-Length" = "1" }', "'providers.local.headers.Content-Length' is set by t502 for each request"),
    ('{ "bad name" = "x" }', "must be a header's name"),
    ('{ "X-Key" = "line\\nbreak-secret" }', "'providers.local.headers.X-Key' must be text of printable ASCII on one line"),
    ('{ "X-Key" = 5 }', "must be text of printable ASCII"),
    ('{ "X-Title" = "a", "x-title" = "b" }', "'providers.local.headers.x-title' is given twice"),
])
def test_headers_a_request_cannot_carry_are_refused_in_one_line(local: LoopbackServer, tmp_path: Path,
                                                                  headers: str, message: str) -> None:
    result = t502("config", "show", T502_CONFIG=write_config(tmp_path, local, f"headers = {headers}"))
    assert result.returncode != 0 and message in result.stderr and "break-secret" not in result.stderr
    assert_clean(result)


def test_balance_names_a_bot_check_that_blocks_it(server: LoopbackServer) -> None:
    page = Reply(200, body=CHALLENGE_PAGE, headers={"content-type": "text/html", "cf-mitigated": "challenge"})
    server.script("/dashboard/billing/subscription", page)
    balance = t502("balance", server=server)
    assert balance.returncode == 1
    assert balance.stderr.startswith("token502: no balance: Cloudflare's bot check blocked the request")


def test_ask_says_what_a_per_request_model_cost_when_the_server_reports_no_usage(server: LoopbackServer) -> None:
    server.pricing, server.models = DEMO_PRICING, DEMO_MODELS
    server.script("/chat/completions", stream_reply(sse(chunk("A picture.", model="gemini-2.5-pro", finish="stop"))))
    result = t502("ask", "--no-save", "-m", "gemini-2.5-pro", "draw", server=server)
    assert result.returncode == 0, result.stderr
    assert result.stderr.rstrip().endswith("gemini-2.5-pro · usage not reported by the server · $0.0400")
