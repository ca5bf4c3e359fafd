import django.db.models.deletion
from django.db import migrations, models

# A course's discharged sessions numbered afresh, under a lock per course so two changes to one course at once
# number one after the other (the second, once the first has committed, reads its rows: each statement of a
# READ COMMITTED function takes a new snapshot). The two-number lock key: a namespace, then the course id folded
# into an int (two courses sharing a key only wait for each other).
NUMBER_COURSE = """
CREATE FUNCTION scheduling_number_course_sessions(numbered_course bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1936943469, (numbered_course % 2147483647)::int);
    DELETE FROM scheduling_sessionnumber WHERE course_id = numbered_course;
    INSERT INTO scheduling_sessionnumber (session_id, course_id, number, local_date, location_id, recorded_history)
    SELECT id, course_id, row_number() OVER (ORDER BY start, id), local_date, location_id, recorded_history
      FROM scheduling_session
     WHERE course_id = numbered_course AND status = 'discharged';
END $$;

CREATE FUNCTION scheduling_session_numbers_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.status = 'discharged' THEN
        PERFORM scheduling_number_course_sessions(OLD.course_id);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status = 'discharged'
       AND NOT (TG_OP = 'UPDATE' AND OLD.status = 'discharged' AND OLD.course_id = NEW.course_id) THEN
        PERFORM scheduling_number_course_sessions(NEW.course_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER session_numbers_on_insert AFTER INSERT ON scheduling_session
    FOR EACH ROW WHEN (NEW.status = 'discharged') EXECUTE FUNCTION scheduling_session_numbers_changed();
CREATE TRIGGER session_numbers_on_update
    AFTER UPDATE OF status, start, course_id, local_date, location_id, recorded_history ON scheduling_session
    FOR EACH ROW WHEN ((OLD.status = 'discharged' OR NEW.status = 'discharged')
                       AND (OLD.status IS DISTINCT FROM NEW.status OR OLD.start IS DISTINCT FROM NEW.start
                            OR OLD.course_id IS DISTINCT FROM NEW.course_id
                            OR OLD.local_date IS DISTINCT FROM NEW.local_date
                            OR OLD.location_id IS DISTINCT FROM NEW.location_id
                            OR OLD.recorded_history IS DISTINCT FROM NEW.recorded_history))
    EXECUTE FUNCTION scheduling_session_numbers_changed();
CREATE TRIGGER session_numbers_on_delete AFTER DELETE ON scheduling_session
    FOR EACH ROW WHEN (OLD.status = 'discharged') EXECUTE FUNCTION scheduling_session_numbers_changed();

INSERT INTO scheduling_sessionnumber (session_id, course_id, number, local_date, location_id, recorded_history)
SELECT id, course_id, row_number() OVER (PARTITION BY course_id ORDER BY start, id), local_date, location_id,
       recorded_history
  FROM scheduling_session
 WHERE status = 'discharged';
"""

UNDO = """
DROP TRIGGER session_numbers_on_insert ON scheduling_session;
DROP TRIGGER session_numbers_on_update ON scheduling_session;
DROP TRIGGER session_numbers_on_delete ON scheduling_session;
DROP FUNCTION scheduling_session_numbers_changed();
DROP FUNCTION scheduling_number_course_sessions(bigint);
"""


class Migration(migrations.Migration):
    """Each discharged session's number in its course, kept by the database (SessionNumber; docs/REPORTS.md)."""

    dependencies = [
        ("protocols", "0005_prior_authorisations"),
        ("scheduling", "0017_freed_time_marks"),
    ]

    operations = [
        migrations.CreateModel(
            name="SessionNumber",
            fields=[
                ("session", models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING,
                                                 primary_key=True, related_name="number_in_course", serialize=False,
                                                 to="scheduling.session")),
                ("number", models.PositiveIntegerField()),
                ("local_date", models.DateField()),
                ("recorded_history", models.BooleanField()),
                ("course", models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING,
                                             related_name="+", to="protocols.treatmentcourse")),
                ("location", models.ForeignKey(db_constraint=False, null=True,
                                               on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                                               to="scheduling.location")),
            ],
            options={
                "indexes": [models.Index(fields=["local_date"], include=["course", "number", "location",
                                                                         "recorded_history"],
                                         name="sessionnumber_day")],
            },
        ),
        migrations.RunSQL(NUMBER_COURSE, UNDO),
    ]
