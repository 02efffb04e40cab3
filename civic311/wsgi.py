import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic311.settings")
application = get_wsgi_application()

# Everything loaded so far (settings, apps, middleware, and the URL patterns with every view
# module they import) lives as long as the process. Moved out of the garbage collector's
# generations, it is no longer walked by each full collection: those came every few hundred
# requests and took tens of milliseconds each, walking some 120,000 such objects (README,
# "How the lists and pages stay fast"). What requests create is collected as before.
get_resolver().url_patterns  # noqa: B018 (imports the URL modules and their views now)
gc.freeze()
