"""The FHIR R4 face of the schedule: Patient, Practitioner, Location, Schedule, Slot, Appointment, CarePlan."""
