"""The API's settings (Django REST framework and drf-spectacular), read into ``clinic/settings.py``.

Kept apart so the main settings module stays readable; ``LOGIN_THROTTLE_RATE`` is
the one value read from the environment here.
"""

from __future__ import annotations

from clinic.environment import env_str

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "clinic.token_auth.TokenWithRolesAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["clinic.roles.HasAnyRole"],
    "DEFAULT_PAGINATION_CLASS": "clinic.pagination.ClinicPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "clinic.errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": env_str("LOGIN_THROTTLE_RATE", "20/min")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Clinic scheduling and session tracking API",
    "DESCRIPTION": "Esketamine and IV ketamine clinics: patients, protocols, courses, sessions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["clinic.roles.HasAnyRole"],
    # Swagger UI from this site's own static files: no third-party script runs
    # on this origin with a signed-in user's session, and the CSP stays 'self'.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation documents its error responses in the one error format (clinic/schema.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "clinic.schema.document_errors"],
    # One schema name per choice set, so clients see SessionStatus, not Status9b4Enum.
    "ENUM_NAME_OVERRIDES": {
        "SeverityEnum": "scheduling.models.charting.Severity",
        "SessionStatusEnum": "scheduling.models.sessions.SessionStatus",
        "CourseStatusEnum": "protocols.models.CourseStatus",
        "RemsFormStatusEnum": "scheduling.models.rems.RemsFormStatus",
        "ReminderKindEnum": "scheduling.models.messaging.ReminderKind",
        "ReminderStateEnum": "scheduling.models.messaging.ReminderState",
        "WorkKindEnum": "scheduling.models.worklist.WorkKind",
        "VitalsKindEnum": "scheduling.models.charting.VitalsKind",
        "MedicineAnswerEnum": "patients.models.MedicineAnswer",
        "ProductKindEnum": "scheduling.models.stock.ProductKind",
        "EntryKindEnum": "scheduling.models.stock.EntryKind",
    },
}
