from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """A Django app of its own (label "insights") so that its models and migrations stay
    apart from the reports app's."""

    name = "reports.insights"
    label = "insights"
    verbose_name = "Open data and insights"
    default_auto_field = "django.db.models.BigAutoField"
