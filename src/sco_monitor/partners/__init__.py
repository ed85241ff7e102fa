"""Partner centres' own assessments: stored views, the report's section, and their scoring."""
