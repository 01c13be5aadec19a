"""Shared web plumbing: templating, i18n, HTMX helpers, errors, security headers, sessions. No tables."""
