from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from corsheaders.signals import check_request_enabled

        from accounts import sections
        from civic311.cors import open_data_reads
        from departments.services import register_after_areas_change
        from places.locate import locate_address_id, locate_address_text, locate_point
        from reports import account_hooks, checks  # noqa: F401  (checks: system checks)
        from reports.account_section import my_reports_context
        from reports.locators import (
            register_address_resolver,
            register_address_string_resolver,
            register_point_address_resolver,
        )
        from reports.notifications import FOLLOWER_UPDATE_KIND, follower_update_rewrite
        from reports.outbox import register_rewrite
        from reports.services.areas import areas_relocate_soon

        check_request_enabled.connect(open_data_reads, dispatch_uid="civic311-open-data-cors")
        sections.register(
            key="reports",
            template_name="reports/_account_section.html",
            context=my_reports_context,
            order=10,
        )
        # The city's gazetteer locates Open311 address ids and address strings.
        register_address_resolver(locate_address_id)
        register_address_string_resolver(locate_address_text)
        register_point_address_resolver(locate_point)
        # Reports follow their areas when one is drawn, redrawn or deleted.
        register_after_areas_change(areas_relocate_soon)
        # A follower's email is written again from what is public when it is sent.
        register_rewrite(FOLLOWER_UPDATE_KIND, follower_update_rewrite)
        # A deleted account's work stays on the timelines, credited to former staff.
        account_hooks.connect()
