"""One blueprint per surface: the integration API and operations endpoints so far."""
