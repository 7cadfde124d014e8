"""Otp domain."""
