from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"

    def ready(self) -> None:
        # Courses (protocols) need session dates, but protocols may not import
        # scheduling; scheduling hands itself over instead.
        from protocols.selectors import register_session_source
        from scheduling.booking import selectors as booking_selectors

        register_session_source(booking_selectors.SessionSourceForCourses())

        from patients.services import on_text_consent_change
        from scheduling.messaging.reminders import text_consent_changed

        on_text_consent_change(text_consent_changed)

        # The patients app's forms and API count "today" at the patient's home site, which only scheduling knows.
        from patients.services import on_home_zone
        from scheduling.pages.patient_page import home_zone

        on_home_zone(home_zone)
