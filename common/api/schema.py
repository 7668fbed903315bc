"""OpenAPI schema generation that documents the shared error responses."""

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema

from .serializers import ErrorSerializer

ERRORS_FOR_EVERY_OPERATION = ("400", "401", "403", "404", "406", "429")
ERRORS_FOR_WRITES = ("409", "410", "413", "415", "422")


class ApiSchema(AutoSchema):
    """drf-spectacular schema that documents the shared error responses of every operation."""

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        codes: tuple[str, ...] = ERRORS_FOR_EVERY_OPERATION
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ERRORS_FOR_WRITES
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    ErrorSerializer, code, media_types=["application/json"]
                )
        return responses
