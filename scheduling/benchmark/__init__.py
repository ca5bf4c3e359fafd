"""The performance benchmark behind ``python manage.py benchmark`` (issue 9; docs/PERFORMANCE.md).

- ``scales``: the sizes (small, medium, large; tiny for the test) and the targets;
- ``database``: a database of its own, created beside the working one and dropped after;
- ``synthetic``: a deterministic clinic network (``layout``, ``generator``), loaded with COPY (``copying``);
- ``cases``: each hot path beside its raw-SQL floor (``hot_path``, ``inputs``, ``desk_cases``,
  ``sweep_cases``, ``api_cases``);
- ``concurrency``: sixteen desks booking at once through the API;
- ``runner``: measures, prints, writes the JSON and checks the targets.

It drives the whole system, as the launcher does.
"""
