"""Kyoso (協創): a city's platform for startup challenges, judging and reusable open-source outputs."""

import os

# Piccolo finds its engine through this module path whenever a table first touches the database.
os.environ.setdefault("PICCOLO_CONF", "app.piccolo_conf")
