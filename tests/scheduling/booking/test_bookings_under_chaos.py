"""Bookings under chaos: sixteen desks book, move and cancel while the database and the web workers fail.

The web server is gunicorn as docker-compose.yml runs it (gthread workers,
Django's connection pool), its DATABASE_URL pointing at a TCP proxy in front
of the machine's PostgreSQL (tests/web_chaos.py). Sixteen front-desk users,
each with an API token, book on a few chairs and times so they contend,
move and cancel their own sessions, while the proxy cuts every database
connection for 1-3 s every few seconds and a web worker is SIGKILLed every
few seconds. Every request and answer is recorded; afterwards the database
is the witness:

- no two standing sessions overlap on a chair;
- every 201 is a session in the database, where the last answered move (or
  cancel) left it, or where an unanswered one may have;
- every session no 201 accounts for is an unanswered (or 503) booking of its desk;
- every refusal is a 4xx in the API's error format or a 503 ``unavailable``
  with Retry-After; no 500, no other 5xx. A request cut off by a killed
  worker has no answer: counted apart.

CI runs ``CHAOS_SECONDS`` (35 by default); ``CHAOS_SECONDS=60`` is the long
run (docs/RELIABILITY.md). ``CHAOS_SEED`` picks the faults' and desks' dice.
"""

from __future__ import annotations

import os
import random
import threading
import time as clock
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

import pytest
import requests
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token

from clinic.roles import FRONT_DESK
from scheduling.models import Session, SessionStatus
from tests.celery_harness import wait_for
from tests.factories import (
    EVERY_DAY_ALL_DAY,
    ChairFactory,
    SessionFactory,
    TreatmentCourseFactory,
    UserFactory,
    standard_protocol,
)
from tests.tcp_proxy import tcp_proxy
from tests.web_chaos import Chaos, gunicorn_server

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # A web server, sixteen desks and the faults keep the machine busy: take turns with the other real-process tests.
    pytest.mark.xdist_group("celery-workers"),
]

DESKS = 16
SECONDS = float(os.environ.get("CHAOS_SECONDS", "35"))
SEED = int(os.environ.get("CHAOS_SEED", "25"))
CHAIRS = 4
COURSES = 48
# Two days, starts every half hour from 08:00 to 13:00: an esketamine session holds its chair over two
# hours, so each chair takes two or three sessions a day and most requests contend for the same few slots.
STARTS = [time(8 + half // 2, 30 * (half % 2)) for half in range(11)]
ERROR_KEYS = {"code", "detail", "fields"}
STANDING = {SessionStatus.BOOKED, SessionStatus.CONFIRMED}


@pytest.fixture
def site_hours():
    """Open all day: the web server runs on the real clock."""
    return EVERY_DAY_ALL_DAY


@dataclass
class Call:
    desk: int
    kind: str  # book, move, cancel
    session: int | None
    payload: dict
    status: int | None = None  # None: no answer (a killed worker, a reset connection)
    body: object = None
    retry_after: str | None = None
    error: str = ""
    sent: float = 0.0  # time.monotonic(), to match an unanswered call with a worker's death
    ended: float = 0.0


@dataclass
class Desk:
    """One front desk: its token, its sessions and every call it made, in order."""

    number: int
    token: str
    rng: random.Random
    calls: list[Call] = field(default_factory=list)
    # Where each of its sessions may be: {("standing" | "cancelled", chair, start)}; one place once answered.
    places: dict[int, set[tuple[str, int, datetime]]] = field(default_factory=dict)

    def standing(self) -> list[int]:
        return sorted(pk for pk, places in self.places.items() if any(p[0] == "standing" for p in places))


class World:
    def __init__(self, url: str, chairs: list[int], courses: list[int], slots: list[datetime]):
        self.url, self.chairs, self.courses, self.slots = url, chairs, courses, slots

    def run(self, desk: Desk, stop: threading.Event) -> None:
        http = requests.Session()
        http.headers["Authorization"] = f"Token {desk.token}"
        while not stop.is_set():
            mine = desk.standing()
            roll = desk.rng.random()
            if mine and roll < 0.4:
                self._move(desk, http, desk.rng.choice(mine))
            elif mine and roll < 0.6:
                self._cancel(desk, http, desk.rng.choice(mine))
            else:
                self._book(desk, http)

    def _slot(self, rng: random.Random) -> tuple[int, datetime]:
        return rng.choice(self.chairs), rng.choice(self.slots)

    def _send(self, desk: Desk, http: requests.Session, call: Call, path: str) -> Call:
        desk.calls.append(call)
        call.sent = clock.monotonic()
        try:
            response = http.post(self.url + path, json=call.payload, timeout=40)
        except requests.RequestException as error:
            call.error = f"{type(error).__name__}: {str(error)[:200]}"
            return call
        finally:
            call.ended = clock.monotonic()
        call.status, call.retry_after = response.status_code, response.headers.get("Retry-After")
        try:
            call.body = response.json()
        except ValueError:
            call.body = response.text[:500]
        return call

    def _book(self, desk: Desk, http: requests.Session) -> None:
        chair, start = self._slot(desk.rng)
        payload = {"course": desk.rng.choice(self.courses), "chair": chair, "start": start.isoformat()}
        call = self._send(desk, http, Call(desk.number, "book", None, payload), "/api/sessions/")
        if call.status == 201:
            call.session = call.body["id"]
            desk.places[call.session] = {("standing", call.body["chair"], _instant(call.body["start"]))}

    def _move(self, desk: Desk, http: requests.Session, session: int) -> None:
        chair, start = self._slot(desk.rng)
        call = self._send(desk, http, Call(desk.number, "move", session, {"chair": chair, "start": start.isoformat()}),
                          f"/api/sessions/{session}/reschedule/")
        if call.status == 200:
            desk.places[session] = {("standing", call.body["chair"], _instant(call.body["start"]))}
        elif _unanswered(call):
            desk.places[session] |= {("standing", chair, start)}

    def _cancel(self, desk: Desk, http: requests.Session, session: int) -> None:
        call = self._send(desk, http, Call(desk.number, "cancel", session, {"reason": "Patient asked to cancel"}),
                          f"/api/sessions/{session}/cancel/")
        if call.status == 200:
            desk.places[session] = {("cancelled", call.body["chair"], _instant(call.body["start"]))}
        elif _unanswered(call):
            desk.places[session] |= {("cancelled", chair, start) for _, chair, start in desk.places[session]}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _unanswered(call: Call) -> bool:
    """No answer, or a 503: the change may or may not have committed before the database went away."""
    return call.status is None or call.status == 503


def _world(site, url: str) -> tuple[World, list[Desk]]:
    day = site.local_date(timezone.now()) + timedelta(days=2)
    chairs = [ChairFactory(location=site, name=f"Chair {n + 1}").pk for n in range(CHAIRS)]
    protocol = standard_protocol("esketamine-trd")
    courses = [course.pk for course in TreatmentCourseFactory.create_batch(COURSES, protocol=protocol, start_date=day)]
    slots = [site.at(day + timedelta(days=d), start) for d in range(2) for start in STARTS]
    desks = []
    for number in range(DESKS):
        user = UserFactory(username=f"chaos.desk{number}", roles=[FRONT_DESK])
        desks.append(Desk(number, Token.objects.create(user=user).key, random.Random(f"{SEED}-desk-{number}")))
    return World(url, chairs, courses, slots), desks


def _overlaps() -> list[tuple]:
    """Pairs of standing sessions whose occupied time overlaps on one chair, read straight from the table."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT a.id, b.id, a.chair_id FROM {Session._meta.db_table} a
                JOIN {Session._meta.db_table} b ON a.chair_id = b.chair_id AND a.id < b.id
                 AND tstzrange(a.start, a.occupied_until) && tstzrange(b.start, b.occupied_until)
                WHERE a.status NOT IN (%s, %s) AND b.status NOT IN (%s, %s)""",
            [SessionStatus.CANCELLED, SessionStatus.NO_SHOW] * 2,
        )
        return cursor.fetchall()


def _misplaced(desks: list[Desk]) -> list[str]:
    """Each answered session not where its desk's answers (and unanswered calls) say it may be."""
    rows = {row.pk: row for row in Session.objects.all()}
    wrong = []
    for desk in desks:
        for pk, places in desk.places.items():
            row = rows.get(pk)
            if row is None:
                wrong.append(f"session {pk} (a 201 to desk {desk.number}) is not in the database")
                continue
            place = ("standing" if row.status in STANDING else "cancelled", row.chair_id, row.start)
            if place not in places:
                wrong.append(f"session {pk} of desk {desk.number} is {place}, expected one of {sorted(places)}")
    return wrong


def _unaccounted(desks: list[Desk]) -> list[str]:
    """Sessions no 201 accounts for that are not an unanswered booking of the desk that made them."""
    answered = {pk for desk in desks for pk in desk.places}
    maybe = {desk.number: [(c.payload["course"], c.payload["chair"], _instant(c.payload["start"]))
                           for c in desk.calls if c.kind == "book" and _unanswered(c)] for desk in desks}
    wrong = []
    for row in Session.objects.exclude(pk__in=answered).select_related("booked_by"):
        number = int(row.booked_by.username.removeprefix("chaos.desk"))
        key = (row.course_id, row.chair_id, row.start)
        if key in maybe[number] and row.status == SessionStatus.BOOKED:
            maybe[number].remove(key)
        else:
            wrong.append(f"session {row.pk} by desk {number} at {key} answers no call")
    return wrong


def _bad_answers(calls: list[Call]) -> list[str]:
    """Answers that break the API's promise: every refusal a 4xx in its error format or a 503 to retry."""
    bad = []
    for call in calls:
        if call.status is None or call.status in (200, 201):
            continue
        if 400 <= call.status < 500:
            ok = isinstance(call.body, dict) and ERROR_KEYS <= call.body.keys()
        elif call.status == 503:
            ok = isinstance(call.body, dict) and call.body.get("code") == "unavailable" and call.retry_after
        else:
            ok = False
        if not ok:
            bad.append(f"{call.kind} {call.payload} -> {call.status} {str(call.body)[:300]}")
    return bad


def _unanswered_without_a_kill(calls: list[Call], chaos: Chaos) -> list[str]:
    kills = [when for when, what in chaos.events if what.startswith("kill")]
    return [f"{call.kind} {call.payload}: {call.error}" for call in calls
            if call.status is None and not any(call.sent - 1 <= when <= call.ended + 1 for when in kills)]


def _enough(calls: list[Call]) -> bool:
    """Enough bookings, moves and refusals of contended slots that the checks below have something to check."""
    return (sum(call.status == 201 for call in calls) >= 10 and sum(call.status == 409 for call in calls) >= 10
            and sum(call.kind == "move" and call.status == 200 for call in calls) >= 3)


def _latency(calls: list[Call]) -> str:
    times = sorted(call.ended - call.sent for call in calls if call.status is not None)
    return f"median {times[len(times) // 2]:.2f} s, max {times[-1]:.2f} s" if times else "-"


def _tally(calls: list[Call]) -> dict[str, int]:
    tally: dict[str, int] = {}
    for call in calls:
        key = f"{call.kind} {call.status or 'no answer'}"
        tally[key] = tally.get(key, 0) + 1
    return dict(sorted(tally.items()))


def test_sixteen_desks_booking_and_moving_through_database_cuts_and_worker_kills_never_double_book(
        site, tmp_path):
    with tcp_proxy(*_database_address()) as proxy, gunicorn_server(proxy, tmp_path / "gunicorn.log") as server:
        # given sixteen desks, four chairs, two days of contended half-hour starts and 48 patients due
        world, desks = _world(site, server.url)
        stop = threading.Event()
        threads = [threading.Thread(target=world.run, args=(desk, stop), name=f"desk-{desk.number}")
                   for desk in desks]
        chaos = Chaos(proxy, server, SEED)
        # when they book, move and cancel while the database is cut and restored and workers are killed
        for thread in threads:
            thread.start()
        chaos.start()
        clock.sleep(SECONDS)  # the length of the chaos, not a wait for something to happen
        # On a loaded machine the desks get less done in that time: the chaos goes on until they have done enough.
        wait_for(lambda: _enough([call for desk in desks for call in desk.calls]), 2 * SECONDS, every=1)
        chaos.stop()
        stop.set()
        for thread in threads:
            thread.join(60)
        calls = [call for desk in desks for call in desk.calls]
        report = (f"seed {SEED}, {chaos.seconds():.0f} s: {chaos.count('cut')} cuts, {chaos.count('kill')} kills; "
                  f"{_tally(calls)}; answered in {_latency(calls)}")
        print(report)
        # then the faults did strike: requests met a database that was gone and workers that died
        assert chaos.count("cut") >= 3 and chaos.count("kill") >= 3, report
        assert any(call.status == 503 for call in calls), report
        # and the desks got work done through them: bookings, moves and refusals of contended slots
        assert _enough(calls), report
        # and every answer kept the API's promise: no 500, every refusal a 4xx or a 503 to retry
        assert _bad_answers(calls) == [], report
        # and a request went unanswered only when a worker was killed under it, never on its own
        assert _unanswered_without_a_kill(calls, chaos) == [], report
        assert "WORKER TIMEOUT" not in server.log.read_text(errors="replace")
        # and the database agrees with every answer and holds no double booking
        assert _overlaps() == []
        assert _misplaced(desks) == []
        assert _unaccounted(desks) == []
        # and once the faults stop the server answers again, without a restart
        assert not any(thread.is_alive() for thread in threads)
        assert _recovers(server.url, desks[0].token), server.tail()


def _recovers(url: str, token: str) -> bool:
    def answers() -> bool:
        try:
            return requests.get(f"{url}/api/sessions/", headers={"Authorization": f"Token {token}"},
                                timeout=10).status_code == 200
        except requests.RequestException:
            return False

    return wait_for(answers, 30, every=0.5)


def _database_address() -> tuple[str, int]:
    parts = urlsplit(os.environ["DATABASE_URL"])
    if not parts.port or not parts.hostname or parts.hostname.startswith("%2F"):
        pytest.skip("the database is reached through a socket, not TCP: no proxy can stand in front of it")
    return parts.hostname, parts.port


def test_the_checks_find_a_session_where_no_answer_put_it_and_answers_that_break_the_promise(site):
    # given two sessions booked by desk 0: one it was told of (a 201), one whose booking went unanswered
    user = UserFactory(username="chaos.desk0", roles=[FRONT_DESK])
    desk = Desk(0, "token", random.Random(0))
    told, untold = (SessionFactory(chair=ChairFactory(location=site), by=user) for _ in range(2))
    desk.calls.append(Call(0, "book", None, {"course": untold.course_id, "chair": untold.chair_id,
                                             "start": untold.start.isoformat()}, status=None, error="reset"))
    # when the desk's answers put the first where it is
    desk.places[told.pk] = {("standing", told.chair_id, told.start)}
    # then nothing is reported
    assert (_misplaced([desk]), _unaccounted([desk])) == ([], [])
    # but a session moved where no answer put it is
    desk.places[told.pk] = {("standing", told.chair_id, told.start + timedelta(minutes=30))}
    assert len(_misplaced([desk])) == 1
    # and so is a session that no call, answered or not, accounts for
    desk.calls[0].status = 409
    assert len(_unaccounted([desk])) == 1
    # and a 500, a 503 without Retry-After, and a 4xx outside the error format break the API's promise
    calls = [Call(0, "book", None, {}, status=500, body={"code": "server_error", "detail": "", "fields": {}}),
             Call(0, "move", 1, {}, status=503, body={"code": "unavailable", "detail": "", "fields": {}}),
             Call(0, "book", None, {}, status=409, body="Conflict"),
             Call(0, "book", None, {}, status=409, body={"code": "chair_conflict", "detail": "", "fields": {}}),
             Call(0, "move", 1, {}, status=503, body={"code": "unavailable", "detail": "", "fields": {}},
                  retry_after="5")]
    assert [bad.split(" -> ")[1][:3] for bad in _bad_answers(calls)] == ["500", "503", "409"]
