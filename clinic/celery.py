"""The Celery app: settings come from Django's under the CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
# Celery's Django fix-up runs every system check when a worker starts, and the URL checks import the
# whole URL tree: every page and API view with matplotlib, reportlab and the FHIR models, none of which a
# task uses. That was a third of a worker's start (about 1.5 s of CPU; 13-18 s on a loaded 2-core
# machine against 9-11 s without), and a worker restarted after a crash takes no text until it is up.
# The checks still stop a bad deployment: ``migrate`` runs them before any worker starts (compose's
# migrate service, ``make run``), and Celery ignores what they find anyway.
os.environ.setdefault("CELERY_SKIP_CHECKS", "true")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _connections_as_for_a_request(task=None, **_) -> None:
    """Keep or drop each database connection around a task as Django does around a request.

    Celery's fix-up would close it after every task (unless CELERY_DB_REUSE_MAX is set, as it is):
    a new PostgreSQL connection for every text, its backend forked, authenticated and set up, which
    the database's side of a send paid more for than for the send's own statements. Here a
    connection lives DATABASE_CONN_MAX_AGE and one that broke (the database restarted) is dropped
    before the next task uses it (CONN_HEALTH_CHECKS).

    A task run eagerly (``task.apply``, tests with CELERY_TASK_ALWAYS_EAGER) runs inside its caller's
    request or transaction: closing the caller's connection there would break the caller's transaction.
    """
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()
