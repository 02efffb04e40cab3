from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from corsheaders.signals import check_request_enabled

        from civic311.cors import open_data_reads

        check_request_enabled.connect(open_data_reads, dispatch_uid="civic311-open-data-cors")
