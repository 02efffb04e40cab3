import reports.api.admin  # noqa: F401
