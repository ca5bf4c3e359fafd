"""The access log reads "access log entries" (not "Patient accesss"), and is indexed by time.

The index serves the log newest first with no filter (the managers' page) and
the days the unusual-access check looks back over.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0007_consent_has_a_method'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='patientaccess',
            options={'ordering': ['-at'], 'verbose_name': 'access log entry', 'verbose_name_plural': 'access log entries'},
        ),
        migrations.AddIndex(
            model_name='patientaccess',
            index=models.Index(fields=['-at', '-id'], name='access_at'),
        ),
    ]
