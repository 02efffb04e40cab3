from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from accounts import sections
        from reports.account_section import my_reports_context

        sections.register(
            key="reports",
            template_name="reports/_account_section.html",
            context=my_reports_context,
            order=10,
        )
