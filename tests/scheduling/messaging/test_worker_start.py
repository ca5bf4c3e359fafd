"""A worker restarted after a crash takes no text until it is up: its start loads nothing a task does not use.

Checked in a fresh interpreter, as ``celery worker`` starts: Django set up, every tasks module imported, the
status callback's address made (a send's path). The web's URL tree (every page and API view), DRF's
serializers and the libraries of the charts, PDFs and FHIR pages stay unloaded; so do Celery's system checks,
which would load the URL tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("clinic.urls", "matplotlib", "reportlab", "fhir.resources", "rest_framework.serializers",
         "phonenumbers.geocoder")

WORKER_START = f"""
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
from clinic.celery import app
app.loader.import_default_modules()  # what the worker does at start: Django's setup, every tasks module
from scheduling.messaging import reminders
reminders.status_callback_url()
print(json.dumps({{"loaded": [name for name in {HEAVY!r} if name in sys.modules],
                   "skip_checks": os.environ.get("CELERY_SKIP_CHECKS")}}))
"""


def test_a_worker_starts_without_the_web_and_its_heavy_libraries():
    env = {**os.environ, "PUBLIC_BASE_URL": "https://clinic.example.org", "SMS_BACKEND": "locmem"}
    result = subprocess.run([sys.executable, "-c", WORKER_START], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {"loaded": [], "skip_checks": "true"}, found
