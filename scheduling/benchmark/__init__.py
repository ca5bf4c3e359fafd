"""The performance benchmark behind ``python manage.py benchmark`` (issue 9; docs/PERFORMANCE.md).

- ``scales``: the sizes (small, medium, large; tiny for the test) and the targets;
- ``database``: a database of its own, created beside the working one and dropped after;
- ``synthetic``: a deterministic clinic network loaded with COPY;
- ``cases``: each hot path beside its raw-SQL floor;
- ``concurrency``: sixteen desks booking at once through the API;
- ``runner``: measures, prints, writes the JSON and checks the targets.

It is the one part of ``clinic`` that imports the apps: it drives the whole system, as the launcher does.
"""
