"""WSGI entry point: uWSGI loads `application` from here (module = application:application)."""

import sys

from photogallery import ConfigError, create_app

try:
    application = create_app()
except ConfigError as exc:
    # One clear message in the uWSGI log instead of a traceback; uWSGI then refuses to start.
    print(exc.format_message(), file=sys.stderr)
    raise SystemExit(2) from None

app = application
