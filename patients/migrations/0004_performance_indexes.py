"""Trigram indexes for the rest of patient search: preferred name, part of an MRN, phone digits.

With them every arm of the search's OR has an index, so PostgreSQL combines
index scans instead of reading every record (issue 9, docs/PERFORMANCE.md).
Created concurrently, so adding them to a live table blocks no writes.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations
from django.db.models.functions import Upper


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("clinic", "0002_extensions"), ("patients", "0003_names_validated_by_clean")]

    operations = [
        AddIndexConcurrently(
            model_name="patient",
            index=GinIndex(OpClass(Upper("preferred_name"), name="gin_trgm_ops"), name="patient_preferred_trgm"),
        ),
        AddIndexConcurrently(
            model_name="patient",
            index=GinIndex(OpClass(Upper("mrn"), name="gin_trgm_ops"), name="patient_mrn_trgm"),
        ),
        AddIndexConcurrently(
            model_name="patient",
            index=GinIndex(OpClass("phone", name="gin_trgm_ops"), name="patient_phone_trgm"),
        ),
    ]
