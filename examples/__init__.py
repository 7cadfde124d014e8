"""Examples that run beside Business ID (from the repository root; not installed)."""
