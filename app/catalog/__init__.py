"""Catalogue: open-source outputs, publiccode.yml, municipalities, adoptions and collaborations."""
