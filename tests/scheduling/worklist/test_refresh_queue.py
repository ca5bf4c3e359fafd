"""Worklist refreshes after booking changes: coalesced per course, kept in PostgreSQL, on the background queue.

The clinic is the frozen New York site of tests/conftest.py: now is Monday 2 March 2026, 09:00 local.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings

from clinic import queueing
from clinic.celery import app
from scheduling import tasks
from scheduling.booking import services as booking
from scheduling.models import WorkItem, WorkKind, WorklistRefresh
from scheduling.tasks import refresh_course_worklist_on_commit, refresh_marked_worklists_task
from scheduling.worklist import refresh_queue
from tests.factories import ChairFactory, PatientFactory, TreatmentCourseFactory, standard_protocol
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

TUESDAY = date(2026, 3, 3)


@pytest.fixture
def published(monkeypatch):
    """Every task name ``clinic.queueing`` publishes (nothing reaches a broker), with no earlier flag left."""
    names: list[str] = []

    def record(task, calls):
        names.extend(task.name for _ in calls)
        return len(calls)

    monkeypatch.setattr(queueing, "publish", record)
    monkeypatch.setattr(tasks, "publish", record)
    queueing.publish_again_allowed(refresh_marked_worklists_task)
    yield names
    queueing.publish_again_allowed(refresh_marked_worklists_task)


def _course(start: date = TUESDAY):
    return TreatmentCourseFactory(patient=PatientFactory(), protocol=standard_protocol("esketamine-trd"),
                                  start_date=start)


def _marked() -> set[int]:
    return set(WorklistRefresh.objects.values_list("course_id", flat=True))


@pytest.mark.parametrize("task, queue", [
    ("scheduling.sweep_reminders", "texts"), ("scheduling.send_reminder", "texts"),
    ("scheduling.send_outreach", "texts"), ("scheduling.send_desk_text", "texts"),
    ("scheduling.send_new_time", "texts"), ("scheduling.reap_reminders", "texts"),
    ("scheduling.refresh_marked_worklists", "background"), ("scheduling.refresh_worklist", "background"),
    ("scheduling.refresh_course_worklist", "background"), ("clinic.clear_expired_sessions", "background"),
])
def test_texts_and_background_work_are_routed_to_their_own_queues(task, queue):
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_many_changes_mark_each_course_once_and_publish_one_pass(now, book, site, published,
                                                                 django_capture_on_commit_callbacks):
    # given twelve changes to six courses (each booked, then moved)
    courses = [_course() for _ in range(6)]
    with django_capture_on_commit_callbacks(execute=True):
        sessions = [book(ChairFactory(location=site), local(site, TUESDAY, 10), course=course)
                    for course in courses]
    with django_capture_on_commit_callbacks(execute=True):
        for session in sessions:
            booking.reschedule_session(by=session.booked_by, session=session,
                                       start=session.start + timedelta(minutes=30))
    # then each course is marked once, and one pass was published for all of them (each move also freed a
    # chair time, which is offered by a task of its own: docs/OFFERS.md)
    assert _marked() == {course.pk for course in courses}
    assert [task for task in published if task != "scheduling.plan_offers"] == ["scheduling.refresh_marked_worklists"]


def test_a_pass_refreshes_the_marked_courses_and_clears_their_marks(now, book, chair, published,
                                                                    django_capture_on_commit_callbacks):
    # given a booked course whose next visit then became due and unbooked (its session cancelled)
    course = _course()
    session = book(chair, local(chair.location, TUESDAY, 10), course=course)
    with django_capture_on_commit_callbacks(execute=True):
        booking.cancel_session(by=session.booked_by, session=session, reason="patient unwell")
    assert not WorkItem.objects.open().filter(course=course).exists()
    # when the published pass runs
    result = refresh_marked_worklists_task()
    # then the course's item is open and the mark is gone
    assert result["courses"] == 1 and result["more"] is False
    assert WorkItem.objects.open().filter(course=course, kind=WorkKind.DUE_UNBOOKED).exists()
    assert _marked() == set()
    # and the pass allowed the next change to publish again
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        refresh_course_worklist_on_commit(course.pk)
    assert published == ["scheduling.refresh_marked_worklists"]


def test_a_course_changed_again_during_a_pass_keeps_its_mark_for_the_next(now):
    course = _course()
    refresh_queue.mark(course.pk, now=now - timedelta(seconds=5))
    # given a pass has claimed the course
    assert refresh_queue.claim(limit=10, now=now) == [course.pk]
    # when another change marks it before the pass finishes
    refresh_queue.mark(course.pk, now=now)
    # then the pass's release leaves it marked, unclaimed
    assert refresh_queue.release([course.pk], claimed_at=now) == 0
    assert WorklistRefresh.objects.get(course=course).claimed_at is None


def test_a_pass_that_died_leaves_its_claim_to_run_out_and_the_course_is_refreshed_later(now):
    course = _course()
    refresh_queue.mark(course.pk, now=now)
    assert refresh_queue.claim(limit=10, now=now) == [course.pk]
    # while the dead pass's lease runs, no other pass takes the course
    assert refresh_queue.claim(limit=10, now=now + refresh_queue.LEASE - timedelta(seconds=1)) == []
    # once it has run out, the next pass does
    assert refresh_queue.claim(limit=10, now=now + refresh_queue.LEASE + timedelta(seconds=1)) == [course.pk]


def test_a_pass_with_more_marked_than_a_batch_publishes_itself_again(settings, published):
    settings.WORKLIST_REFRESH_BATCH = 2
    courses = [_course() for _ in range(5)]
    for course in courses:
        refresh_queue.mark(course.pk)
    # when the pass runs three times, each publishing the next while more are marked
    results = [refresh_marked_worklists_task() for _ in range(3)]
    # then 2 + 2 + 1 courses are refreshed and the chain stops
    assert [result["courses"] for result in results] == [2, 2, 1]
    assert published == ["scheduling.refresh_marked_worklists"] * 2
    assert _marked() == set()


def test_beat_runs_the_pass_often_so_a_lost_task_costs_seconds_not_the_refresh():
    schedule = settings.CELERY_BEAT_SCHEDULE["refresh-marked-worklists"]
    assert schedule["task"] == "scheduling.refresh_marked_worklists"
    assert schedule["schedule"] == settings.WORKLIST_REFRESH_SECONDS <= 60
