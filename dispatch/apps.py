from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    name = "dispatch"
    verbose_name = _("Dispatch")

    def ready(self) -> None:
        from dispatch.audit import admin_edits
        from dispatch.core import fanout, signin
        from dispatch.incidents.reads import incident_rows

        signin.connect()
        admin_edits.connect()
        fanout.serve_incident_rows(incident_rows)
