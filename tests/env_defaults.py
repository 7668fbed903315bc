"""Loaded with `-p` before pytest-django reads the settings: a plain `pytest` run gets the same
development defaults as `make test` (which exports DEBUG=1), instead of a missing SECRET_KEY."""

import os

os.environ.setdefault("DEBUG", "1")
