"""The Celery app: settings come from Django's under the CELERY_ namespace."""

import os

from celery import Celery

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
