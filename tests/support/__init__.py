"""Test helpers shared by every feature's tests."""
