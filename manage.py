#!/usr/bin/env python
"""Django's command-line utility."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxsurvey.settings")
    # The command line is a developer's tool first (like cookiecutter-django's local settings
    # in manage.py); a deployment sets DEBUG=0 and its own SECRET_KEY. The web processes
    # (wsgi.py, asgi.py) and Celery keep DEBUG off unless it is set.
    os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
