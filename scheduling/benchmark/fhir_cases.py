"""The FHIR face's hot path: a day of Appointments for a site, as an EHR's integration asks for it each morning."""

from __future__ import annotations

from datetime import timedelta

from patients.models import PatientAccess
from scheduling.benchmark.hot_path import Case, api_client, fetch, get_json
from scheduling.benchmark.inputs import local_day
from scheduling.booking import selectors as booking_selectors
from scheduling.models import Location, SessionStatus


class FhirAppointmentsDay(Case):
    name = "fhir_appointments_day"
    description = ("FHIR: a day of Appointments for a site (GET /fhir/Appointment?date=&location=Location/site-N"
                   "&_include=Appointment:patient, Bearer token): the page and its count, the patients, the access "
                   "log")

    def setup(self, count):
        self.client = api_client(self.network)
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.network.token}")
        # Today and the next open day at every site, so every call has a day of sessions to answer.
        self.inputs = []
        sites = Location.objects.filter(pk__in=self.network.location_ids).prefetch_related("hours", "closures")
        for location in sites.order_by("pk"):
            calendar, day, days = booking_selectors.site_calendar(location), local_day(location), []
            while len(days) < 2:
                if calendar.opening(day):
                    days.append(day)
                day += timedelta(days=1)
            self.inputs += [(location.pk, day) for day in days]

    def call(self, index):
        location_id, day = self.inputs[index % len(self.inputs)]
        get_json(self.client, "/fhir/Appointment", {"date": day.isoformat(), "location": f"Location/site-{location_id}",
                                                    "_include": "Appointment:patient", "_count": 200})

    def floor(self, index):
        location_id, day = self.inputs[index % len(self.inputs)]
        # The day's sessions with everything an Appointment and its Patient show, each one's number in its
        # course and the number of matches; then the access log's rows for the patients on the page.
        fetch("""
            SELECT s.*, p.*, c.modality, pr.slug, pr.name, pr.modality, u.first_name, u.last_name,
                   u.username, ch.name, l.name,
                   (SELECT count(*) FROM scheduling_session d WHERE d.course_id = s.course_id
                      AND d.status = %s AND d.start < s.start),
                   count(*) OVER ()
            FROM scheduling_session s
            JOIN patients_patient p ON p.id = s.patient_id
            JOIN protocols_treatmentcourse c ON c.id = s.course_id
            JOIN protocols_protocol pr ON pr.id = c.protocol_id
            LEFT JOIN auth_user u ON u.id = s.clinician_id
            LEFT JOIN scheduling_chair ch ON ch.id = s.chair_id
            LEFT JOIN scheduling_location l ON l.id = s.location_id
            WHERE s.location_id = %s AND s.local_date = %s ORDER BY s.start, s.id LIMIT 200
        """, [SessionStatus.DISCHARGED, location_id, day])
        fetch(f"""
            INSERT INTO {PatientAccess._meta.db_table} (patient_id, user_id, at, channel, path)
            SELECT DISTINCT s.patient_id, %s, now(), %s, %s FROM scheduling_session s
            WHERE s.location_id = %s AND s.local_date = %s
        """, [self.network.desk_user_id, PatientAccess.Channel.API, "/fhir/Appointment", location_id, day])
