"""The JSON API (dispatch.api.main). Every JSON endpoint is a django-ninja operation, so the
OpenAPI 3 document at /api/schema/ is generated from the code that serves requests."""
