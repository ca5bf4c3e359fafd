"""Opting out "by any reasonable means" (FCC 24-18): the matcher, example by example, no database."""

from __future__ import annotations

import pytest

from scheduling.messaging.opt_out import MAYBE, OPT_OUT, OTHER, meaning_of

CARRIER_KEYWORDS = ["STOP", "stopall", "Unsubscribe", "end", "QuIt", "cancel", "Revoke", "optOut", "opt out",
                    "STOP ALL"]
PLAIN_REQUESTS = [
    "please stop", "Please STOP", "stop please", "STOP!!!", "stop.", "  Stop  ",
    "stop texting me", "Stop texting me!", "please stop texting me", "stop sending me texts",
    "can you stop sending me these messages", "stop messaging me", "stop the reminders",
    "unsubscribe me", "Unsubscribe me please", "i want to unsubscribe", "unsubscribe me from this list",
    "no more texts", "No more texts please", "no more messages", "no more reminders",
    "remove me", "Remove me from this list", "remove my number", "take me off the list", "take me off your list",
    "don't text me", "Don’t text me again!", "dont text me", "do not text me", "do not contact me",
    "please don't message me anymore", "opt me out", "I don't want any more texts", "i do not want reminders",
    "Hi, please stop texting me. Thanks!", "hello. STOP", "stop now", "stop for good",
]
MAY_MEAN_MORE = [
    "cancel my Tuesday visit", "Cancel my Tuesday visit please", "stop by tomorrow?", "can you please stop by tomorrow",
    "I want to stop", "I want to quit", "can I end the course?", "stop it", "cancel it", "I need to cancel",
    "Please remove my appointment", "I'll be there at the end of the day",
]
NOTHING_TO_DO_WITH_STOPPING = ["C", "R", "YES", "HELP", "START", "hello", "where do I park?", "running 10 min late",
                               "", "   ", "opt", "take me"]


@pytest.mark.parametrize("body", CARRIER_KEYWORDS)
def test_a_carrier_keyword_alone_opts_out_in_any_case(body):
    assert meaning_of(body).kind == OPT_OUT


@pytest.mark.parametrize("body", PLAIN_REQUESTS)
def test_a_plain_request_to_stop_the_texts_opts_out(body):
    assert meaning_of(body).kind == OPT_OUT, body
    assert meaning_of(body).more is False


@pytest.mark.parametrize("body", MAY_MEAN_MORE)
def test_a_text_that_may_mean_more_is_not_an_opt_out_but_a_maybe(body):
    assert meaning_of(body).kind == MAYBE, body


@pytest.mark.parametrize("body", NOTHING_TO_DO_WITH_STOPPING)
def test_other_texts_are_left_to_the_other_rules(body):
    assert meaning_of(body).kind == OTHER, body


@pytest.mark.parametrize("body", ["STOP. Cancel my visit on Tuesday", "Stop texting me, I will call you",
                                  "Where do I park?\nAnd please stop texting me"])
def test_an_opt_out_with_more_to_read_opts_out_and_says_so(body):
    meaning = meaning_of(body)
    assert (meaning.kind, meaning.more) == (OPT_OUT, True)


def test_greetings_and_thanks_around_an_opt_out_are_not_more_to_read():
    assert meaning_of("Hi! Stop texting me. Thank you.").more is False
