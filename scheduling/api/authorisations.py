"""Prior authorisations of a course through the API."""

from __future__ import annotations

urlpatterns: list = []
