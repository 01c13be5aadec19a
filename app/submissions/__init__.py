"""Submissions: a challenge's application form, startups' drafts, files, submitted versions and receipts."""
