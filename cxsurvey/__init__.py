"""cxsurvey project package: settings, URLs and the Celery app (plumbing only)."""

from .celery import app as celery_app

__all__ = ("celery_app",)
