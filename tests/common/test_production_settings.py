"""Production settings are safe by default: `check --deploy` is clean under the documented
production environment, and the shared services are configured as README says."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cxsurvey import deploy

ROOT = Path(__file__).resolve().parents[2]
# The production environment README documents (values are examples).
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k3y-" + "x7Qp9vL2mN8rT4wZ" * 4,
    "ALLOWED_HOSTS": "cx.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://cx.example.com",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto=https",
    "SECURE_HSTS_PRELOAD": "1",
    "NUM_PROXIES": "1",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("CACHE_")}
    clean.pop("DEBUG", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_the_documented_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_seed_demo_refuses_to_run_without_debug():
    result = _manage("seed_demo", "--stores", "3", env=PRODUCTION_ENV)

    assert result.returncode != 0
    assert "--force" in result.stderr


def test_cache_is_shared_redis_when_a_broker_or_cache_url_is_configured():
    via_broker = deploy.cache_setting(
        cache_url="", broker_url="redis://10.0.0.5:6379/0", socket_timeout=0.5
    )
    via_url = deploy.cache_setting(
        cache_url="redis://cache:6379/1", broker_url="", socket_timeout=0.5
    )
    embedded = deploy.cache_setting(cache_url="", broker_url="", socket_timeout=0.5)

    assert via_broker["BACKEND"] == via_url["BACKEND"] == deploy.REDIS_CACHE
    assert via_broker["LOCATION"] == "redis://10.0.0.5:6379/0"
    assert via_url["OPTIONS"]["socket_timeout"] == 0.5
    assert via_url["OPTIONS"]["socket_connect_timeout"] == 0.5
    assert embedded["BACKEND"].endswith("LocMemCache")


def test_broker_transport_has_timeouts_and_no_retry_on_timeout(settings):
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS

    assert options["socket_timeout"] == options["socket_connect_timeout"] <= 1.0
    assert options["retry_on_timeout"] is False
    assert settings.CELERY_TASK_PUBLISH_RETRY is False


def test_argon2_hashes_passwords_first(settings):
    from cxsurvey import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_proxy_ssl_header_is_read_as_header_and_value():
    assert deploy.proxy_ssl_header("X-Forwarded-Proto=https") == (
        "HTTP_X_FORWARDED_PROTO",
        "https",
    )
    assert deploy.proxy_ssl_header("") is None
    with pytest.raises(ValueError):
        deploy.proxy_ssl_header("X-Forwarded-Proto")
