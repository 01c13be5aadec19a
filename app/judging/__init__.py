"""Judging: rounds, rubrics, conflicts, scores, aggregation, results and the audit trail."""
