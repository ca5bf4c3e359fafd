import os

from django.apps import AppConfig
from django.db.models.signals import post_migrate

# Apps whose configuration managers edit in the admin.
# otp_totp: a manager removes a lost authenticator so its owner can set up a new one.
MANAGED_APPS = ("patients", "protocols", "scheduling", "auth", "authtoken", "axes", "otp_totp")


def grant_manager_permissions(sender, **kwargs) -> None:
    """Give the manager role every admin permission of the clinic's apps.

    Permissions only exist after migrate has created them, so this runs on
    post_migrate rather than in the migration that creates the roles.
    """
    from django.contrib.auth.models import Group, Permission

    manager = Group.objects.filter(name="manager").first()
    if manager is not None:
        manager.permissions.add(*Permission.objects.filter(content_type__app_label__in=MANAGED_APPS))


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self) -> None:
        from django.conf import settings

        # No sender filter: this app has no models, so Django never sends
        # post_migrate with it as sender; the handler is idempotent.
        post_migrate.connect(grant_manager_permissions, dispatch_uid="clinic.grant_manager_permissions")
        # Each sign-in notes whether the user has an authenticator (see clinic.two_factor).
        from django.contrib.auth.signals import user_logged_in

        from clinic.two_factor import note_sign_in

        user_logged_in.connect(note_sign_in, dispatch_uid="clinic.two_factor.note_sign_in")
        # Registers the system check of CLINIC_NAME (no treatment or diagnosis in the name texts carry).
        import clinic.texts  # noqa: F401
        # The filesystem broker (REDIS_URL unset) needs its folders before the first send.
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            for key in ("data_folder_in", "processed_folder"):
                os.makedirs(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key], exist_ok=True)
