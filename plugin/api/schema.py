"""The OpenAPI schema documents the error answers every endpoint can give, in the shapes DRF sends them:
400 (a reason per field), 401 (no or a bad token), 403 (the role may not), 404 (no such object or page)."""
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

_detail = inline_serializer(name="ErrorDetail", fields={"detail": serializers.CharField()})
_field_errors = inline_serializer(
    name="FieldErrors",
    fields={
        "non_field_errors": serializers.ListField(child=serializers.CharField(), required=False),
    },
)

ERROR_RESPONSES = {
    "400": ("Refused input: a list of reasons per field (`non_field_errors` for the rest), or `detail`.",
            _field_errors),
    "401": ("No credentials, or a token that is not valid.", _detail),
    "403": ("The user's role may not do this.", _detail),
    "404": ("No such object, or a page past the last one.", _detail),
}


class ErrorDocumentingAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status, (description, serializer) in ERROR_RESPONSES.items():
            if status not in responses:
                responses[status] = self._get_response_for_code(
                    OpenApiResponse(response=serializer, description=description), status
                )
        return responses
