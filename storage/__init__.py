"""Storage behind a small API: models, one module per concept, migrations. Imports nothing of ours."""
