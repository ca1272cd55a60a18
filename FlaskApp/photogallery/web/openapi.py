"""The OpenAPI 3.1 description of the JSON API, served at /api/openapi.json."""

from __future__ import annotations

from ..services import gallery, uploads
from ..services.auth import accounts

_ERROR = {"$ref": "#/components/schemas/Error"}
_DESCRIPTION = {"type": "string", "maxLength": uploads.MAX_DESCRIPTION}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _json_body(properties: dict, *required: str) -> dict:
    """A JSON object request body; required when it names required fields.

    web/validation.py checks every request against these schemas: a field not listed here is
    refused, so a misspelt name is an error rather than silently ignored.
    """
    schema: dict = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    body: dict = {"content": {"application/json": {"schema": schema}}}
    return {"required": True, **body} if required else body


def _errors(*codes: int) -> dict:
    reasons = {
        400: "Invalid input",
        401: "Not signed in",
        403: "Forbidden",
        404: "No such photo",
        409: "Conflict (duplicate)",
        413: "Too large",
        415: "The body is not JSON",
        429: "Too many failed sign-ins (see Retry-After)",
        503: "A service is unavailable",
    }
    return {str(c): _json(_ERROR, reasons[c]) for c in codes}


# web/ids.py: up to 18 digits in a URL, so every id a client can send fits the database.
_PHOTO_ID = {
    "name": "photo_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 10**18 - 1},
}

OPENAPI: dict = {
    "openapi": "3.1.0",
    "info": {"title": "Photo gallery API", "version": "1.0.0"},
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "basic": {"type": "http", "scheme": "basic"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session"},
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string"}},
            },
            "Label": {
                "type": "object",
                "required": ["name", "confidence"],
                "properties": {
                    "name": {"type": "string"},
                    "confidence": {"type": "number", "minimum": 0, "maximum": 100},
                    "parents": {"type": "array", "items": {"type": "string"}},
                    "source": {"type": "string", "enum": ["model", "user"]},
                },
            },
            "Photo": {
                "type": "object",
                "required": ["id", "description", "label_status", "labels", "created_at", "urls"],
                "properties": {
                    "id": {"type": "integer"},
                    "description": {"type": "string"},
                    "filename": {"type": "string"},
                    "content_type": {"type": "string"},
                    "byte_size": {"type": "integer"},
                    "width": {"type": "integer"},
                    "height": {"type": "integer"},
                    "taken_at": {"type": ["string", "null"], "format": "date-time"},
                    "camera": {"type": ["string", "null"], "maxLength": 200},
                    "created_at": {"type": "string", "format": "date-time"},
                    "label_status": {"type": "string", "enum": ["pending", "done", "failed"]},
                    "label_error": {"type": ["string", "null"]},
                    "labels": {"type": "array", "items": {"$ref": "#/components/schemas/Label"}},
                    "urls": {
                        "type": "object",
                        "required": ["thumbnail", "preview", "original"],
                        "properties": {
                            k: {"type": "string"} for k in ("thumbnail", "preview", "original")
                        },
                    },
                },
            },
        },
    },
    "security": [{"bearer": []}, {"session": []}],
    "paths": {
        "/api/users": {
            "post": {
                "summary": "Create a local account (when sign-up is open)",
                "security": [],
                "requestBody": _json_body(
                    {
                        "username": {
                            "type": "string",
                            "pattern": accounts.USERNAME.pattern,
                            "description": accounts.USERNAME_RULE,
                        },
                        "password": {
                            "type": "string",
                            "minLength": accounts.MIN_PASSWORD,
                            "maxLength": accounts.MAX_PASSWORD,
                        },
                    },
                    "username",
                    "password",
                ),
                "responses": {
                    "201": _json(
                        {
                            "type": "object",
                            "properties": {
                                "id": {"type": "integer"},
                                "username": {
                                    "type": "string",
                                    "pattern": accounts.USERNAME.pattern,
                                    "description": accounts.USERNAME_RULE,
                                },
                            },
                        },
                        "Created",
                    ),
                    **_errors(400, 403, 409, 413, 415),
                },
            }
        },
        "/api/tokens": {
            "post": {
                "summary": "Create a personal API token (HTTP Basic with a local account)",
                "security": [{"basic": []}],
                "requestBody": _json_body(
                    {"name": {"type": "string", "maxLength": accounts.MAX_TOKEN_NAME}}
                ),
                "responses": {
                    "201": _json(
                        {
                            "type": "object",
                            "required": ["token"],
                            "properties": {"token": {"type": "string"}},
                        },
                        "The token, shown once",
                    ),
                    **_errors(400, 401, 413, 415, 429),
                },
            }
        },
        "/api/photos": {
            "get": {
                "summary": "List photos newest first, optionally searched by label or description",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 500},
                    },
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["photos", "next_cursor"],
                            "properties": {
                                "photos": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Photo"},
                                },
                                "next_cursor": {"type": ["string", "null"]},
                            },
                        },
                        "A page of photos",
                    ),
                    **_errors(400, 401),
                },
            },
            "post": {
                "summary": "Upload one or more photos",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {
                                        "type": "array",
                                        "items": {"type": "string", "format": "binary"},
                                        "minItems": 1,
                                    },
                                    "description": _DESCRIPTION,
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": _json(
                        {
                            "type": "object",
                            "required": ["photos"],
                            "properties": {
                                "photos": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Photo"},
                                },
                                "errors": {"type": "array", "items": _ERROR},
                            },
                        },
                        "Stored (labels follow; label_status is pending until then)",
                    ),
                    **_errors(400, 401, 409, 413, 503),
                },
            },
        },
        "/api/suggestions": {
            "get": {
                "summary": "Search suggestions: the caller's terms starting with q, with counts",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 20},
                    },
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "suggestions": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "term": {"type": "string"},
                                            "label": {"type": "string"},
                                            "count": {"type": "integer"},
                                        },
                                    },
                                }
                            },
                        },
                        "Most used first",
                    ),
                    **_errors(400, 401),
                },
            },
        },
        "/api/photos/{photo_id}": {
            "parameters": [_PHOTO_ID],
            "get": {
                "summary": "One photo",
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Photo"}, "The photo"),
                    **_errors(401, 404),
                },
            },
            "patch": {
                "summary": "Change the description",
                "requestBody": _json_body({"description": _DESCRIPTION}, "description"),
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Photo"}, "The photo"),
                    **_errors(400, 401, 404, 413, 415),
                },
            },
            "delete": {
                "summary": "Delete the photo, its labels and every stored object",
                "responses": {
                    "204": {"description": "Deleted, with every stored object"},
                    "202": _json(
                        {"type": "object", "properties": {"message": {"type": "string"}}},
                        "Deleted; storage failed, so its objects are removed by a later sweep",
                    ),
                    **_errors(401, 404),
                },
            },
        },
    },
}

_LABEL_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
OPENAPI["paths"]["/api/photos/{photo_id}/labels"] = {
    "parameters": [_PHOTO_ID],
    "post": {
        "summary": "Add the owner's own label (kept through relabeling, searchable)",
        "requestBody": _json_body(
            {"name": {"type": "string", "minLength": 1, "maxLength": gallery.MAX_LABEL}}, "name"
        ),
        "responses": {
            "200": _json({"$ref": "#/components/schemas/Photo"}, "The photo with the label"),
            **_errors(400, 401, 404, 413, 415),
        },
    },
}
OPENAPI["paths"]["/api/photos/{photo_id}/labels/{name}"] = {
    "parameters": [_PHOTO_ID, _LABEL_NAME],
    "delete": {
        "summary": "Remove a label; relabeling will not bring it back",
        "responses": {
            "200": _json({"$ref": "#/components/schemas/Photo"}, "The photo without the label"),
            **_errors(401, 404),
        },
    },
}

# Direct upload (web/direct_upload.py): answers 404 unless DIRECT_UPLOAD is on (STORAGE=s3).
_UPLOAD_TOKEN = {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
OPENAPI["paths"]["/api/uploads"] = {
    "post": {
        "summary": "Start a direct upload: a presigned POST to send one file straight to S3",
        "requestBody": _json_body(
            {
                "filename": {"type": "string"},
                "content_type": {"type": "string"},
                "size": {"type": "integer", "minimum": 1},
            },
            "filename",
            "size",
        ),
        "responses": {
            "201": _json(
                {
                    "type": "object",
                    "required": ["token", "url", "fields", "complete_url"],
                    "properties": {
                        "token": {"type": "string"},
                        "url": {"type": "string", "description": "POST the form here"},
                        "fields": {
                            "type": "object",
                            "description": "Form fields to send before the file part",
                            "additionalProperties": {"type": "string"},
                        },
                        "max_bytes": {"type": "integer"},
                        "expires_in": {"type": "integer", "description": "Seconds to start"},
                        "complete_url": {"type": "string"},
                    },
                },
                "Send the file as multipart/form-data to url, then POST complete_url",
            ),
            **_errors(400, 401, 404, 413),
            "415": _json(_ERROR, "Not a photo type, or the body is not JSON"),
        },
    }
}
OPENAPI["paths"]["/api/uploads/{token}/complete"] = {
    "parameters": [_UPLOAD_TOKEN],
    "post": {
        "summary": "Check, thumbnail and record the photo sent to S3",
        "requestBody": _json_body({"description": _DESCRIPTION}),
        "responses": {
            "201": _json({"$ref": "#/components/schemas/Photo"}, "Stored"),
            **_errors(400, 401, 404, 409, 413, 415, 503),
            "410": _json(_ERROR, "The upload expired"),
        },
    },
}

# Sign out everywhere (web/sessions_api.py).
OPENAPI["paths"]["/api/sessions"] = {
    "delete": {
        "summary": "End every browser session of the caller (API tokens stay until revoked)",
        "responses": {"204": {"description": "Every session ended"}, **_errors(401)},
    }
}
