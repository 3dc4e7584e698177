"""The web server's entry point (gunicorn: ``settings.wsgi:application``). Only the web
processes load it, so what is set here holds for them alone: their PostgreSQL connections stop a
statement past ``WEB_STATEMENT_TIMEOUT_MS`` (the consumers and migrations have no such limit)."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from pipeline.statement_timeout import bound_web_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.base")
application = get_wsgi_application()
bound_web_connections(settings.DATABASES, settings.WEB_STATEMENT_TIMEOUT_MS)
