"""The status line keeps what matters when the terminal is narrow: the model, and the
connection's state in words (not only a coloured dot) whenever it is not ready."""

from __future__ import annotations

from textual.app import App, ComposeResult

from t502_tui.service import Usage
from t502_tui.turn import Connection, LinkState
from t502_tui.ui.widgets.status_line import StatusFacts, StatusLine


class _Line(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusLine()


def facts(connection: Connection) -> StatusFacts:
    return StatusFacts("token502/a-rather-long-model-name", Usage(12_345, 6_789, 19_134), connection,
                       "api.token502.com", settings=["temp 0.2", "top_p 0.9"], cost=(1.2345, True),
                       context=(19_134, 128_000, 120_000), balance=18.42)


async def test_a_narrow_line_keeps_the_model_and_says_offline_in_words() -> None:
    app = _Line()
    async with app.run_test(size=(60, 3)) as pilot:
        line = app.query_one(StatusLine)
        line.show(facts(Connection(LinkState.OFFLINE, "cannot connect to api.token502.com: Connection refused")))
        await pilot.pause()
        text = str(line.render())
        assert "a-rather-long-model-name" in text and "● offline" in text
        line.show(facts(Connection(LinkState.READY)))
        await pilot.pause()
        assert str(line.render()).endswith("●")  # ready: the host goes first, the dot stays
        await pilot.resize_terminal(200, 3)
        await pilot.pause()
        assert "api.token502.com" in str(line.render())  # redrawn for the new width


async def test_the_token_split_goes_before_the_host() -> None:
    app = _Line()
    async with app.run_test(size=(60, 3)) as pilot:
        line = app.query_one(StatusLine)
        line.show(StatusFacts("gpt-5", Usage(10, 681, 691), Connection(LinkState.READY), "127.0.0.1:38093"))
        await pilot.pause()
        assert str(line.render()).endswith("691 tokens · ● 127.0.0.1:38093")


async def test_a_new_state_repaints_the_line_without_laying_out_the_screen() -> None:
    """The line changes several times a reply, never its size: a layout of the whole
    screen each time cost a few milliseconds."""
    app = _Line()
    async with app.run_test(size=(80, 3)) as pilot:
        line = app.query_one(StatusLine)
        refreshed: list[bool] = []
        plain_refresh = line.refresh

        def refresh(*regions, layout=False, **kwargs):  # type: ignore[no-untyped-def]
            refreshed.append(layout)
            return plain_refresh(*regions, layout=layout, **kwargs)

        line.refresh = refresh  # type: ignore[method-assign]
        line.show(facts(Connection(LinkState.STREAMING)))
        await pilot.pause()
        assert "streaming" in str(line.render())
        assert refreshed and not any(refreshed)


async def test_replies_whose_tokens_were_not_reported_are_not_called_none() -> None:
    """A reply stopped with Esc has no usage from the server: not "no tokens yet"."""
    app = _Line()
    async with app.run_test(size=(100, 3)) as pilot:
        line = app.query_one(StatusLine)
        line.show(StatusFacts("gpt-5", Usage(), Connection(LinkState.READY), "h", unreported=1))
        await pilot.pause()
        assert "tokens not reported" in str(line.render())
        line.show(StatusFacts("gpt-5", Usage(10, 681, 691), Connection(LinkState.READY), "h", unreported=1))
        await pilot.pause()
        assert "≥691 tokens (10 in, 681 out)" in str(line.render())  # a lower bound, like "≥$0.01"
        line.show(StatusFacts("gpt-5", Usage(10, 681, 691), Connection(LinkState.READY), "h", unreported=1,
                              cost=(0.00002, False)))
        await pilot.pause()
        assert "≥$0 " in str(line.render()) + " " and "≥<" not in str(line.render())
        line.show(StatusFacts("gpt-5", Usage(10, 681, 691), Connection(LinkState.READY), "h", unreported=1,
                              cost=(0.0025, True)))  # every reply with usage priced, one without usage
        await pilot.pause()
        assert "≥$0.0025" in str(line.render())


async def test_a_retry_is_told_on_the_line_in_words_wide_or_narrow() -> None:
    # Not in notices: two of them stacked over the composer at 60x20 (user run).
    app = _Line()
    waiting = Connection(LinkState.RETRYING, "the server failed (HTTP 502 Bad Gateway); trying again in 2 s",
                         "retrying in 2 s")
    async with app.run_test(size=(200, 3)) as pilot:
        line = app.query_one(StatusLine)
        line.show(facts(waiting))
        await pilot.pause()
        assert str(line.render()).endswith("● retrying: the server failed (HTTP 502 Bad Gateway); trying again in 2 s")
        await pilot.resize_terminal(60, 3)
        await pilot.pause()
        assert str(line.render()).endswith("● retrying in 2 s")


async def test_an_overlong_model_id_is_cut_not_the_rest_of_the_line() -> None:
    app = _Line()
    async with app.run_test(size=(80, 3)) as pilot:
        line = app.query_one(StatusLine)
        long = StatusFacts("x" * 150, Usage(1, 2, 3), Connection(LinkState.OFFLINE), "api.token502.com")
        line.show(long)
        await pilot.pause()
        text = str(line.render())
        assert "x" * 39 + "…" in text and "● offline" in text
