"""Addresses of the front desk's pages (included at the site root by ``clinic/urls.py``).

The ``isodate`` path converter is registered by ``scheduling.pages`` itself, so every page
module may use it in its own ``urlpatterns``.
"""

from django.urls import path

from scheduling.pages import (
    authorisations,
    board,
    booking,
    chart,
    clinician,
    course_page,
    day_sheet,
    manager_home,
    numbers,
    offers_page,
    patient_page,
    patient_texts,
    protocol_pages,
    reminder_policies,
    rems_pages,
    session_panel,
    site_settings,
    slot_grid,
    staff_pages,
    stock_pages,
    week,
    worklist_page,
)

urlpatterns = [
    path("board/", board.board_start, name="board-start"),
    path("board/<int:location_id>/", board.board_jump, name="board-jump"),
    path("board/<int:location_id>/<isodate:day>/", board.board, name="board"),
    path("board/<int:location_id>/<isodate:day>/body/", board.board_body, name="board-body"),
    path("sessions/<int:session_id>/", board.session_panel, name="session-panel"),
    path("sessions/<int:session_id>/reschedule/", board.session_reschedule, name="session-reschedule"),
    path("sessions/<int:session_id>/cancel/", board.session_cancel, name="session-cancel"),
    path("sessions/<int:session_id>/no-show/", board.session_no_show, name="session-no-show"),
    # The patient page shows courses and sessions, so it lives here (patients may not import scheduling);
    # it is listed before patients/urls.py, whose ``patients:detail`` names the same address.
    path("patients/<int:patient_id>/", patient_page.patient_page, name="patient-page"),
    path("patients/<int:patient_id>/start-course/", booking.start_course, name="start-course"),
    path("courses/<int:course_id>/book/", booking.book_next, name="book-next"),
    path("courses/<int:course_id>/book-phase/", booking.book_phase, name="book-phase"),
    path("courses/<int:course_id>/book-phase/preview/", booking.book_phase_preview, name="book-phase-preview"),
    path("worklist/", worklist_page.worklist, name="worklist"),
    path("worklist/count/", worklist_page.worklist_count, name="worklist-count"),
    path("worklist/<int:item_id>/<str:action>/", worklist_page.worklist_action, name="worklist-action"),
    # Clinicians: my schedule (their landing page), the observation board, the session chart, REMS forms.
    path("schedule/", clinician.my_schedule, name="my-schedule"),
    path("observation/", clinician.observation_start, name="observation-start"),
    path("observation/<int:location_id>/", clinician.observation_board, name="observation"),
    path("observation/<int:location_id>/body/", clinician.observation_body, name="observation-body"),
    path("sessions/<int:session_id>/chart/", chart.session_chart, name="session-chart"),
    path("sessions/<int:session_id>/chart/phq9-score/", chart.phq9_score, name="chart-phq9-score"),
    path("sessions/<int:session_id>/chart/<str:step>/", chart.chart_step, name="chart-step"),
    path("rems/", rems_pages.rems_list, name="rems-list"),
    path("rems/<int:form_id>/", rems_pages.rems_form, name="rems-form"),
    path("rems/<int:form_id>/submit/", rems_pages.rems_submit, name="rems-submit"),
    # Pages that keep their own addresses beside their views.
    *session_panel.urlpatterns,
    *day_sheet.urlpatterns,
    *slot_grid.urlpatterns,
    *week.urlpatterns,
    *patient_texts.urlpatterns,
    *course_page.urlpatterns,
    # The manager's pages: home, sites (chairs, hours, closures), staff, protocols, reminder policies.
    *manager_home.urlpatterns,
    *site_settings.urlpatterns,
    *staff_pages.urlpatterns,
    *protocol_pages.urlpatterns,
    *reminder_policies.urlpatterns,
    *numbers.urlpatterns,
    *stock_pages.urlpatterns,
    *authorisations.urlpatterns,
    *offers_page.urlpatterns,
]
