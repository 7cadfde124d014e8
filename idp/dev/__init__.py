"""Dev domain."""
