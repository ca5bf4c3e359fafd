"""Prior authorisations on the course's pages, and the printable renewal summary."""

from __future__ import annotations

urlpatterns: list = []
