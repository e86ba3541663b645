"""The OpenAPI 3 document of both APIs, built from the views' declared operations."""
