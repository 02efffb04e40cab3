from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from corsheaders.signals import check_request_enabled

        from accounts import sections
        from civic311.cors import open_data_reads
        from reports.account_section import my_reports_context

        check_request_enabled.connect(open_data_reads, dispatch_uid="civic311-open-data-cors")
        sections.register(
            key="reports",
            template_name="reports/_account_section.html",
            context=my_reports_context,
            order=10,
        )
