"""Loaded with `-p` before pytest-django reads the settings: a plain `pytest` run gets the same
development defaults as `make test` (which exports DEBUG=1), instead of a missing SECRET_KEY."""

import os

os.environ.setdefault("DEBUG", "1")
# Tests clear the cache between tests; a cache shared with the broker (settings use the Redis
# broker's server when CACHE_URL is unset) would have that cleared too. Integration tests that
# need the shared cache configure it themselves.
os.environ.setdefault("CACHE_URL", "locmemcache://")
# Webhook tests deliver to servers on 127.0.0.1; the address check has its own tests, which
# turn this off.
os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "1")
