"""Protocols (the schedules, as data) and the treatment courses that follow them."""

from protocols.models.authorisations import (
    STATUS_MOVES,
    AuthorisationStatus,
    PriorAuthorisation,
    PriorAuthorisationQuerySet,
)
from protocols.models.courses import (
    OPEN_STATUSES,
    CourseStatus,
    MaintenanceFrequency,
    TreatmentCourse,
    TreatmentCourseQuerySet,
)
from protocols.models.schedules import (
    DEFAULT_MINUTES,
    EDITABLE_WHEN_IN_USE,
    Modality,
    Phase,
    Protocol,
    ProtocolQuerySet,
)

__all__ = [
    "STATUS_MOVES", "AuthorisationStatus", "PriorAuthorisation", "PriorAuthorisationQuerySet",
    "DEFAULT_MINUTES", "EDITABLE_WHEN_IN_USE", "OPEN_STATUSES", "CourseStatus", "MaintenanceFrequency", "Modality",
    "Phase", "Protocol", "ProtocolQuerySet", "TreatmentCourse", "TreatmentCourseQuerySet",
]
