"""The faces: what users touch (the kgrca command, the REST API and webhooks' HTTP front, reports, the terminal).

Nothing imports this package; it imports every layer below it (import-linter's contracts in pyproject.toml).
"""
