"""The Redis cache backend reuses one client per pool and still behaves as Django's."""

from urllib.parse import urlparse

import pytest
from django.core.cache import caches
from django.test import override_settings

from cxsurvey import deploy
from tests.conftest import service_reachable, skip_or_fail
from tests.integration.services import BROKER_URL


@pytest.fixture
def redis_cache():
    broker = urlparse(BROKER_URL)
    if not service_reachable(broker.hostname or "127.0.0.1", broker.port or 6379):
        skip_or_fail(f"Redis is not reachable at {BROKER_URL}")
    setting = deploy.redis_cache(BROKER_URL, socket_timeout=0.5)
    setting["KEY_PREFIX"] = "cxsurvey-test-client"
    with override_settings(CACHES={"default": setting}):
        cache = caches["default"]
        cache.clear()
        yield cache
        cache.clear()


def test_redis_cache_shares_one_client_across_calls(redis_cache):
    client = redis_cache._cache.get_client(write=True)
    redis_cache.set("visits", 1)
    assert redis_cache._cache.get_client(write=True) is client
    assert redis_cache._cache.get_client() is client  # one server: reads use the same pool


def test_redis_cache_keeps_djangos_semantics(redis_cache):
    assert redis_cache.add("lock", "first", 30) is True
    assert redis_cache.add("lock", "second", 30) is False
    assert redis_cache.get("lock") == "first"
    redis_cache.set("hits", 1)
    assert redis_cache.incr("hits", 5) == 6
    redis_cache.set_many({"a": 1, "b": [2, 3]})
    assert redis_cache.get_many(["a", "b", "missing"]) == {"a": 1, "b": [2, 3]}
    redis_cache.delete("a")
    assert redis_cache.get("a", "gone") == "gone"


def test_redis_counter_starts_a_window_and_counts_in_one_round_trip(redis_cache):
    client = redis_cache._cache.get_client(write=True)
    before = client.info("stats")["total_commands_processed"]
    assert [redis_cache.count_in_window("answers", 60) for _ in range(3)] == [1, 2, 3]
    sent = client.info("stats")["total_commands_processed"] - before
    assert sent <= 3 * 2 + 1  # SET NX + INCR per count (and the INFO itself)
    assert redis_cache.get("answers") == 3  # readable as Django's own integers
    assert 0 < client.ttl(redis_cache.make_key("answers")) <= 60
    redis_cache.delete("answers")
    assert redis_cache.count_in_window("answers", 60) == 1  # a new window
