"""Tests of payments (against localstripe)."""
