"""Sessions domain."""
