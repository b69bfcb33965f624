"""Scenarios: versioned YAML task streams, the loaders that read their data, and splits."""
