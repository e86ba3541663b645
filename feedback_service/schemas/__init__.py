"""marshmallow schemas: request bodies in, wire shapes out."""
