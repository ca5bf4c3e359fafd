"""Whole numbers as the stock's API takes them: quantities and ids typed as plain digits, never as fractions.

DRF's ``IntegerField`` reads 1.0 and "1_000" and Arabic-Indic digits as
numbers, and a primary key field hands a float to the database, which
truncates it (lot 1.9 is lot 1). A controlled-substance ledger must record
exactly what was typed: a float, even a whole-looking one, is a 400 naming
the field, never a number rounded for the clinic.
"""

from __future__ import annotations

import re

from rest_framework import serializers

PLAIN_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,12}")


def plain_whole_number(data) -> int | None:
    """``data`` as an int when it is a JSON integer or a string of plain digits (an optional minus); else None."""
    if isinstance(data, bool):
        return None
    if isinstance(data, int):
        return data
    if isinstance(data, str) and PLAIN_WHOLE_NUMBER.fullmatch(data):
        return int(data)
    return None


class WholeNumberField(serializers.IntegerField):
    """An integer typed as one: 2 or "2"; not 2.0, 1.5, "1_000", "٣" or true."""

    def to_internal_value(self, data):
        number = plain_whole_number(data)
        if number is None:
            self.fail("invalid")
        return super().to_internal_value(number)


class WholeIdField(serializers.PrimaryKeyRelatedField):
    """A related row's id as a whole number: a float id is refused, not truncated to another row."""

    def to_internal_value(self, data):
        if plain_whole_number(data) is None:
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)
