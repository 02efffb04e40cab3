from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """A Django app of its own (label "insights") so that its models and migrations stay
    apart from the reports app's."""

    name = "reports.insights"
    label = "insights"
    verbose_name = "Open data and insights"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Alert emails are written again from what is public when they are sent (in every
        process that sends mail, the worker included)."""
        from reports.insights import alerts
        from reports.outbox import register_rewrite

        register_rewrite(alerts.KIND, alerts.alert_message_rewrite)
