"""Settings refuse a bad environment at start, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _check(**overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **overrides}
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)


@pytest.mark.parametrize(
    "variable, value",
    [
        ("DJANGO_DEBUG", "maybe"),
        ("DATABASE_URL", "sqlite:///db.sqlite3"),
        ("REDIS_URL", "localhost:6379"),
        ("SMS_BACKEND", "pigeon"),
        ("SESSION_IDLE_MINUTES", "soon"),
        ("DJANGO_HTTPS", "2"),
        ("CLINIC_NAME", "Midtown Ketamine Clinic"),  # it is in every text: the system check refuses it
        ("TEXT_RETRY_SECONDS", "5,soon"),
        ("TEXT_RETRY_JITTER_PERCENT", "150"),
    ],
)
def test_a_bad_value_stops_the_start_with_the_variable_named(variable, value):
    result = _check(**{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr


def test_production_needs_a_secret_key():
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SECRET_KEY"}
    env["DJANGO_DEBUG"] = "false"
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = _check(DJANGO_DEBUG="false", DJANGO_HTTPS="true", DJANGO_ALLOWED_HOSTS="clinic.example.org",
                    DJANGO_SECRET_KEY="k8#Qz!v2@Lr9$Wm4%Tn7^Bx1&Hc6*Jp3(Fs5)Gd0_Ya8+Ue2=Io4-Pk7")
    assert result.returncode == 0, result.stderr
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                            env={**os.environ, "DJANGO_DEBUG": "false", "DJANGO_HTTPS": "true",
                                 "DJANGO_ALLOWED_HOSTS": "clinic.example.org",
                                 "DJANGO_SECRET_KEY": "k8#Qz!v2@Lr9$Wm4%Tn7^Bx1&Hc6*Jp3(Fs5)Gd0_Ya8+Ue2=Io4-Pk7"},
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
