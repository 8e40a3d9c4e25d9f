"""The WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi``."""

import sys

from training.app import create_app
from training.config import SettingsError

try:
    app = create_app()
except SettingsError as error:
    sys.exit(f"Cannot start: {error}")
