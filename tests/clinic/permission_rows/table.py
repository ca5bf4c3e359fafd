"""What one row of the role matrix is, and who may call it (the role sets)."""

from __future__ import annotations

from dataclasses import dataclass, field

from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER

ALL = frozenset({FRONT_DESK, CLINICIAN, MANAGER})
DESK_AND_CLINICIAN = frozenset({FRONT_DESK, CLINICIAN})
DESK_AND_MANAGER = frozenset({FRONT_DESK, MANAGER})
CLINICIAN_AND_MANAGER = frozenset({CLINICIAN, MANAGER})
CLINICIAN_ONLY = frozenset({CLINICIAN})
MANAGER_ONLY = frozenset({MANAGER})
PUBLIC = "public"  # no sign-in: the answer is the same for everyone (``ok``)

CALLERS = ("anonymous", "no_role", FRONT_DESK, CLINICIAN, MANAGER)


@dataclass(frozen=True)
class Row:
    """One request: ``route`` is the URL pattern (``<name>`` for each part), ``who`` may use it."""

    route: str
    method: str
    who: frozenset | str
    what: str | None  # the matrix line (docs/PERMISSIONS.md) this row belongs to; None: the rule "every role"
    args: dict = field(default_factory=dict)  # pattern part -> key of the world, or "=literal"
    query: str = ""  # appended after ?; {key} from the world
    body: object = None  # dict, or callable(world, caller) -> dict
    ok: frozenset = frozenset({200})  # what an allowed GET (or a PUBLIC row) answers
    expect: dict = field(default_factory=dict)  # caller -> statuses, where a row answers some callers its own way
    follow: bool = False

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def label(self) -> str:
        extra = "".join(f" {key}={value.lstrip('=')}" for key, value in self.args.items() if value.startswith("="))
        return f"{self.method} /{self.route}{extra}"
