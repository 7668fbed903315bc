"""Building blocks of the REST API both apps use: the one error shape, strict JSON parsing,
strict input serializers, pagination, export renderers and idempotent POSTs."""
