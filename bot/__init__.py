"""The Slack surface. It stays a thin shell over :mod:`core.runs.service`."""
