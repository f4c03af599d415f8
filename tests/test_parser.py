"""The one parser: tokens, quotes, Slack escaping, options."""

import pytest
from hypothesis import given, strategies as st

from commands.errors import UserError
from commands.parser import slack_to_text, split_options, tokenize, user_ref


def words(text):
    return [t.text for t in tokenize(text).tokens]


def test_straight_and_curly_quotes_group_words():
    assert words('status "Acme Corp"') == ["status", "Acme Corp"]
    assert words("status “Acme Corp” now") == ["status", "Acme Corp", "now"]
    assert words("status „Acme Corp“") == ["status", "Acme Corp"]


def test_unclosed_quote_is_a_clear_error():
    with pytest.raises(UserError, match="quote is not closed"):
        tokenize('status "Acme Corp')


def test_slack_escapes_are_undone_once():
    assert slack_to_text("R&amp;D &lt;team&gt; &amp;lt;") == "R&D <team> &lt;"


def test_mentions_become_readable_text():
    assert slack_to_text("ping <@U123|bob> in <#C1|general> <!here>") == "ping @bob in #general @here"
    assert slack_to_text("<!subteam^S1|@legal> <https://x.io|x> <https://y.io>") == "@legal x https://y.io"


def test_user_tokens_carry_ids():
    cmd = tokenize("owner:<@U0ABC|alice>")
    (token,) = cmd.tokens
    _, opts = split_options(cmd.tokens, {"owner"})
    assert user_ref(opts["owner"]) == "U0ABC"


def test_bare_at_name_is_refused_with_autocomplete_hint():
    (token,) = tokenize("@alice").tokens
    with pytest.raises(UserError, match="autocomplete"):
        user_ref(token)


def test_unknown_option_names_the_allowed_ones():
    with pytest.raises(UserError, match="`type:`"):
        split_options(tokenize("colour:red").tokens, {"type"})


def test_rest_keeps_free_text_verbatim():
    cmd = tokenize('log acme call said  "hi" &amp; <@U1|bob>')
    assert cmd.rest(3) == 'said  "hi" & @bob'


def test_zero_width_characters_do_not_split_names():
    assert words("status Ac\u200bme") == ["status", "Acme"]


@given(st.text(max_size=300))
def test_tokenize_never_crashes(text):
    try:
        cmd = tokenize(text)
    except UserError:
        return
    for token in cmd.tokens:
        assert token.raw.strip() == token.raw
        token.text  # decodes without error
