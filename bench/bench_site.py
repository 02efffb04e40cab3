"""Settings for the HTTP bench's server: the project's, with bench_urls.py as the URLs
(the project's plus a minimal view every figure is compared with).

gunicorn loads it with DJANGO_SETTINGS_MODULE=bench_site and bench/ on PYTHONPATH."""

from civic311.settings import *  # noqa: F403  (the project's settings, unchanged)

ROOT_URLCONF = "bench_urls"
