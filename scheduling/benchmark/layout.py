"""The shape of the synthetic clinic network: its sites' zones and hours, the chair lanes, the mix of
protocols, the patients' names, and ``Site``, one location as the generator fills it.

Sites in five US time zones, open Monday to Saturday; two thirds of each site's chairs serve esketamine,
a third have an infusion pump; sessions start on fixed lanes, so no chair is ever double-booked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from protocols.models import Modality
from scheduling.models import Location

SEED = 20260309
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Phoenix")
WEEKDAY_HOURS = (time(7), time(19))
SATURDAY_HOURS = (time(8), time(14))
TURNOVER = timedelta(minutes=15)
# Lanes: start times on one chair that never overlap (chair time plus turnover), per kind of day.
LANE_STARTS = {
    Modality.ESKETAMINE_NASAL: {"weekday": (time(7), time(9, 45), time(12, 30), time(15, 15)),
                                "saturday": (time(8), time(10, 45))},
    Modality.KETAMINE_IV: {"weekday": (time(7), time(8, 45), time(10, 30), time(12, 15), time(14), time(15, 45),
                                       time(17, 30)),
                           "saturday": (time(8), time(9, 45), time(11, 30))},
}
# Protocol slug, share of patients, mean extra sessions after the finite phases (0: finite protocol).
PROTOCOL_MIX = (("esketamine-trd", 0.35, 16), ("esketamine-mdsi", 0.10, 0), ("ketamine-iv-series", 0.35, 8),
                ("ketamine-iv-weekly", 0.20, 8))
BOOKING_HORIZON_DAYS = 28
FIRST_NAMES = (
    "Ana", "Ben", "Carla", "David", "Elena", "Frank", "Grace", "Hector", "Iris", "James", "Keiko", "Liam", "Maria",
    "Noah", "Olivia", "Pedro", "Quinn", "Rosa", "Samuel", "Tara", "Uma", "Victor", "Wendy", "Xavier", "Yara",
    "Zane", "Aisha", "Bruno", "Chloe", "Diego", "Emma", "Farid", "Gina", "Hugo", "Ines", "Jonah", "Kara", "Luis",
    "Mei", "Nadia", "Omar", "Priya", "Rafael", "Sofia", "Tomas", "Ursula", "Vera", "Wes", "Yusuf", "Zoe",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker",
    "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson",
    "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner",
    "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook",
    "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos",
    "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza",
    "Ruiz", "Hughes", "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster",
    "Jimenez", "Okafor", "Lindqvist", "Kowalski", "Haddad", "Nakamura", "Oyelaran", "Fitzgerald", "Mbeki",
)


@dataclass
class Site:
    """One location as the generator sees it: chairs by modality, clinicians by chair, closed days."""

    location: Location
    zone: ZoneInfo
    chairs: dict[str, list[int]]
    clinician_of_chair: dict[int, int]
    closures: frozenset[date]
    lane_order: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def open_on(self, day: date) -> bool:
        return day.weekday() != 6 and day not in self.closures
