"""How big each benchmark run is, and what it must achieve (issue 9's targets)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """The size of one synthetic clinic network and how long to measure it."""

    name: str
    locations: int
    chairs_per_location: int  # two thirds esketamine chairs, a third infusion chairs
    patients: int
    history_days: int  # courses start over this many days before today
    repeats: int  # timed runs of each interactive hot path (after warm-up)
    sweep_repeats: int  # timed runs of each sweep
    # Concurrency test (a): distinct slots each of the 16 threads books. 25 at medium and large: 400
    # bookings over about three seconds, a sustained rate that a short slow spell of a shared machine
    # moves less than it moved 160 bookings in one second.
    bookings_per_thread: int
    contested_slots: int  # concurrency test (b): slots all 16 threads try to take at once
    # --check: the time limits differ by scale; query counts, winners and errors do not.
    interactive_median_ms: float
    min_bookings_per_second: float
    # A pause between generating the data and timing anything (runner.settle).
    settle_seconds: int = 0


SCALES = {
    # Hidden: the end-to-end test's size (tests/clinic/test_benchmark.py). Its time limits only catch a
    # gross regression, because CI's machine may be busy; its query, winner and error checks are exact.
    "tiny": Scale("tiny", locations=1, chairs_per_location=6, patients=150, history_days=120, repeats=5,
                  sweep_repeats=2, bookings_per_thread=2, contested_slots=2,
                  interactive_median_ms=400, min_bookings_per_second=2),
    # One site: every booking there takes the site's clinician locks until it commits, so sixteen desks
    # book one after another and the rate is that of a single desk.
    "small": Scale("small", locations=1, chairs_per_location=6, patients=500, history_days=730, repeats=20,
                   sweep_repeats=3, bookings_per_thread=5, contested_slots=3,
                   interactive_median_ms=100, min_bookings_per_second=10),
    "medium": Scale("medium", locations=10, chairs_per_location=12, patients=20_000, history_days=730, repeats=30,
                    sweep_repeats=3, bookings_per_thread=25, contested_slots=5,
                    interactive_median_ms=50, min_bookings_per_second=100, settle_seconds=20),
    "large": Scale("large", locations=30, chairs_per_location=12, patients=60_000, history_days=730, repeats=30,
                   sweep_repeats=3, bookings_per_thread=25, contested_slots=5,
                   interactive_median_ms=50, min_bookings_per_second=100, settle_seconds=45),
}
PUBLIC_SCALES = ("small", "medium", "large")

THREADS = 16
# The front desk's and the clinician's screens and the booking itself.
INTERACTIVE_CASES = ("availability", "booking", "board", "plan", "worklist_api", "patient_search",
                     "fhir_appointments_day")
MAX_INTERACTIVE_QUERIES = 7  # "under 8 queries"
# The large run's median may be at most this multiple of the medium run's (with --compare).
CROSS_SCALE_RATIO = 1.3
# Due-visit sweep: seconds per 10,000 active courses, and the multiple of its raw-SQL floor.
SWEEP_SECONDS_PER_10K_COURSES = 2.0
SWEEP_FLOOR_RATIO = 3.0
# The sweep's query count may not grow with the number of courses; this is the fixed ceiling.
SWEEP_MAX_QUERIES = 30
REMINDER_SWEEP_SECONDS = 2.0
