"""The API's hot paths, through the real stack with token authentication: the worklist and patient search."""

from __future__ import annotations

from scheduling.benchmark.hot_path import Case, api_client, fetch, get_json


class WorklistApi(Case):
    name = "worklist_api"
    description = "GET /api/worklist/ (first page, token authentication)"

    def setup(self, count):
        self.client = api_client(self.network)

    def call(self, index):
        get_json(self.client, "/api/worklist/", {"page": 1 + index % 2})

    def floor(self, index):
        fetch("SELECT count(*) FROM scheduling_workitem WHERE closed_at IS NULL "
               "AND (snoozed_until IS NULL OR snoozed_until <= CURRENT_DATE)")
        fetch("""
            SELECT w.*, p.first_name, p.last_name, pr.slug, l.name, u.username
            FROM scheduling_workitem w
            JOIN patients_patient p ON p.id = w.patient_id
            LEFT JOIN protocols_treatmentcourse c ON c.id = w.course_id
            LEFT JOIN protocols_protocol pr ON pr.id = c.protocol_id
            LEFT JOIN scheduling_location l ON l.id = w.location_id
            LEFT JOIN auth_user u ON u.id = w.assigned_to_id
            WHERE w.closed_at IS NULL AND (w.snoozed_until IS NULL OR w.snoozed_until <= CURRENT_DATE)
            ORDER BY w.urgency, w.due_on, w.opened_at, w.id LIMIT 25 OFFSET %s
        """, [25 * (index % 2)])


class PatientSearch(Case):
    name = "patient_search"
    description = "GET /api/patients/?q= by part of a name, a full name, an MRN and phone digits"
    QUERIES = ("gar", "Martinez", "ana smi", "B00001", "rodri", "555000", "lee", "Okafor", "so mor", "B0000123")

    def setup(self, count):
        self.client = api_client(self.network)

    def call(self, index):
        get_json(self.client, "/api/patients/", {"q": self.QUERIES[index % len(self.QUERIES)]})

    def floor(self, index):
        text = self.QUERIES[index % len(self.QUERIES)]
        words = text.split()
        name = " AND ".join(["(lower(first_name) LIKE %s OR lower(last_name) LIKE %s "
                             "OR upper(preferred_name) LIKE upper(%s))"] * len(words))
        params = [f"%{word.lower()}%" for word in words for _ in range(3)]
        digits = "".join(ch for ch in text if ch.isdigit())
        condition = f"(({name}) OR upper(mrn) = upper(%s) OR upper(mrn) LIKE upper(%s)"
        params += [text, f"{text}%"]
        if len(digits) >= 4:
            condition += " OR phone LIKE %s"
            params.append(f"%{digits}%")
        condition += ") AND archived_at IS NULL"
        # The page and the count of every match in one statement, as the API reads them.
        fetch(f"SELECT id, mrn, first_name, last_name, preferred_name, date_of_birth, phone, diagnosis, archived_at, "
               f"count(*) OVER () FROM patients_patient WHERE {condition} ORDER BY last_name, first_name, id LIMIT 25",
               params)
