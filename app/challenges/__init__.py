"""Challenges (課題): drafted by a bureau's officials, approved by another, found and followed by all."""
