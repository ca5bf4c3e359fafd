"""Backups and the restore drill (docs/BACKUP.md).

``tools`` finds ``pg_dump``/``pg_restore``, ``compare`` checks a restored database
row for row against its source, ``load`` books while the dump runs, ``drill`` puts
them together for ``manage.py restore_drill``; ``python -m scheduling.backup``
runs that command with the project's embedded PostgreSQL when DATABASE_URL is
unset. Nothing here is imported at package level: ``__main__`` must run before
Django's settings can load.
"""
