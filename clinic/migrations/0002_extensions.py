"""PostgreSQL extensions the invariants rely on.

btree_gist lets an exclusion constraint mix equality (same chair, same
patient) with range overlap; pg_trgm makes patient search by part of a name
use an index instead of scanning every record.
"""

from django.contrib.postgres.operations import BtreeGistExtension, TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("clinic", "0001_roles")]
    operations = [BtreeGistExtension(), TrigramExtension()]
