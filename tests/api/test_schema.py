"""/api/v1/openapi.json and /api/v1/docs/."""

import json

import pytest

pytestmark = pytest.mark.django_db


def test_schema_is_openapi_3_with_the_endpoints(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/partners/", "/api/v1/partners/{id}/", "/api/v1/tiers/"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["apiKey"] == {
        "type": "http", "scheme": "bearer", "description": "An API key: `Authorization: Bearer prm_…`."}
    params = {p["name"] for p in schema["paths"]["/api/v1/partners/"]["get"]["parameters"]}
    assert {"status", "tier", "assigned_to", "q", "updated_since", "cursor", "limit"} <= params


def test_schema_validates_against_the_openapi_spec(client):
    from drf_spectacular.validation import validate_schema

    validate_schema(json.loads(client.get("/api/v1/openapi.json").content))


def test_docs_page_loads_assets_locally_under_the_csp(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "<script>" not in html  # no inline script: the start script is a separate file
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/openapi.json" in script.content.decode()
