"""The settings every bench runs Django with, whatever the developer's environment says:
production-like request handling (no query log, no debug pages, no HTTPS redirect on the
loopback) and only errors logged."""

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-use-0123456789",
    "SECURE_SSL_REDIRECT": "false",
    "LOG_LEVEL": "ERROR",
}
