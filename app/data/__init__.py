"""The data layer: models, the async engine and sessions, the embedded server, seeding."""
