"""Whether a patient's text asks to stop the texts (docs/DOMAIN.md "Reminder texts").

Since April 2025 (FCC 24-18) consent may be revoked "by any reasonable means", not only with the
carriers' keywords. ``meaning_of`` reads a reply as one of three things. The text is split into
clauses at ``. , ; ! ?`` and line breaks; each clause is lower-cased, apostrophes dropped and other
punctuation made spaces ("Don't text me!!" -> "dont text me").

- ``OPT_OUT``: some clause is a request to stop the texts and nothing else:
  a STOP word alone (STOP, STOPALL, UNSUBSCRIBE, END, QUIT, CANCEL, REVOKE, OPTOUT, "opt out"),
  or a phrase that names the texts or the list: "stop texting me", "stop sending me messages",
  "no more texts", "unsubscribe me", "opt me out", "remove me", "take me off the list",
  "don't text me", "do not contact me again", "I don't want any more texts", "cancel the reminders".
  Polite words may come around it ("please", "hi", "thanks", "now", "for good"), and a lead-in
  before a phrase ("can you", "I want to"). ``more`` is set when the text says something else too
  ("STOP. Cancel my visit"): it opts out, and a person reads the rest.
- ``MAYBE``: no clause is such a request, but a stopping word is there ("cancel my Tuesday visit",
  "stop by tomorrow?", "I want to stop", "can I end the course?"). It may be about the visits or the
  treatment, so it does not opt out; a person reads it and records the opt-out if it was one.
- ``OTHER``: anything else (C, R, HELP, a question), read by the other rules.

The rule is whole-clause on purpose: words around a phrase change its meaning ("can you please stop
by tomorrow" is not an opt-out), and a bare STOP word takes no lead-in ("I want to quit" may be
about the treatment). Whatever is not an opt-out still reaches a person, so a miss is read by
someone; an opt-out is answered with how to opt in again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPT_OUT, MAYBE, OTHER = "opt_out", "maybe", "other"

# The carriers' keywords (CTIA) and the FCC's list, as the first and only word of a clause.
STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "end", "quit", "cancel", "revoke", "optout"})

# Polite words (and a joining word) around a request ("please stop", "STOP thanks", "and unsubscribe me").
_POLITE = r"please|pls|plz|kindly|ok|okay|hi|hello|hey|just|and|but|so|also"
_POLITE_AFTER = r"please|pls|plz|thanks|thank you|thank u|thx|ty|now|asap|immediately|already|ok|okay|for good|forever"
# Lead-ins that are fine before a phrase naming the texts, but not before a bare STOP word: "I want to stop" or
# "I want to quit" may be about the treatment, "I want to unsubscribe" is not.
_ASKING = r"can you|could you|would you|will you|i want you to|i want to|i would like to|id like to|i wish to|" \
          r"i need you to|i need to|i want|i would like"
_TEXTS = r"(?:(?:the|these|those|your|all|all the|all of the|all your|any|any more|anymore)\s+)?" \
         r"(?:texts?|text messages?|txts?|messages?|msgs?|sms|reminders?|reminder texts|notifications?|alerts?)"
_LIST = r"(?:this|the|your)\s+(?:list|texts?|text list|messages?|reminders?|mailing list)"
_ME = r"(?:me|my number|my phone|my phone number|this number)"
_SENDING = r"(?:texting|txting|messaging|sending|contacting|reminding)"
_FROM = rf"(?:(?:of|from|off)\s+(?:{_LIST}|{_TEXTS}|all|everything|your list))"
_AGAIN = r"(?:again|anymore|any more|ever again)"
# A bare STOP word: a clause of its own, with polite words only.
_KEYWORD = "|".join(sorted(STOP_WORDS)) + "|stop all|opt out"
# Phrases that name the texts (or the list), so nothing else can be meant.
_PHRASES = (
    rf"(?:stop|quit|end|cease)\s+{_SENDING}(?:\s+{_ME})?(?:\s+{_TEXTS})?(?:\s+{_AGAIN})?",
    rf"(?:stop|end|cancel|quit)\s+{_TEXTS}(?:\s+to\s+me)?",
    rf"(?:unsubscribe|unsub)(?:\s+{_ME})?(?:\s+{_FROM})?",
    rf"opt\s+{_ME}\s+out(?:\s+{_FROM})?|opt\s+out\s+{_FROM}",
    rf"(?:remove|delete)\s+{_ME}(?:\s+{_FROM})?",
    rf"take\s+{_ME}\s+off(?:\s+(?:of\s+)?(?:{_LIST}|{_TEXTS}|all|your list))?",
    rf"(?:no|no more|not any more)\s+{_TEXTS}(?:\s+(?:to me|for me|please|{_AGAIN}))?",
    rf"(?:dont|do not|never|pls dont|please dont|please do not)\s+(?:text|txt|message|contact|sms|remind)\s+{_ME}"
    rf"(?:\s+{_AGAIN})?",
    rf"(?:i\s+)?(?:dont|do not)\s+want\s+(?:to\s+(?:get|receive)\s+)?(?:any\s+)?(?:more\s+)?{_TEXTS}"
    rf"(?:\s+{_AGAIN})?",
)
_CLAUSE = re.compile(
    rf"(?:(?:{_POLITE})\s+)*"
    rf"(?:(?:{_KEYWORD})|(?:(?:{_ASKING})\s+)?(?:{'|'.join(f'(?:{phrase})' for phrase in _PHRASES)}))"
    rf"(?:\s+(?:{_POLITE_AFTER}))*")
_GREETING = re.compile(rf"(?:(?:{_POLITE}|{_POLITE_AFTER})\s*)+")
# Words that may be about stopping the texts when the message says more than that.
_STOPPING = re.compile(r"\b(?:stop\w*|unsub\w*|end|quit|cancel\w*|revoke\w*|opt\s*out|remove|"
                       r"dont text|do not text|no more)\b")
_SPLIT = re.compile(r"[.,;!?\n]+")


@dataclass(frozen=True)
class Meaning:
    """What the text means for consent: ``kind`` is OPT_OUT, MAYBE or OTHER; ``more`` is True when an
    opt-out also said something else a person should read."""

    kind: str
    more: bool = False


def _normal(text: str) -> str:
    """Lower case, apostrophes dropped ("don't" -> "dont"), anything but letters and digits a space."""
    text = text.lower().replace("’", "").replace("'", "")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def meaning_of(body: str) -> Meaning:
    """Read a patient's text for a request to stop the texts (the rule is in the module docstring)."""
    clauses = [_normal(part) for part in _SPLIT.split(body or "")]
    clauses = [clause for clause in clauses if clause]
    matched = [clause for clause in clauses if _CLAUSE.fullmatch(clause)]
    if matched:
        rest = [clause for clause in clauses if clause not in matched and not _GREETING.fullmatch(clause)]
        return Meaning(OPT_OUT, more=bool(rest))
    if any(_STOPPING.search(clause) for clause in clauses):
        return Meaning(MAYBE)
    return Meaning(OTHER)


def is_opt_out(body: str) -> bool:
    return meaning_of(body).kind == OPT_OUT
