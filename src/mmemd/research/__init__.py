"""Research tools: meta-analysis of the evidence and cohort analytics on registry data.

Subpackages: ``meta`` (pooling, forest plots), ``survival`` (Kaplan–Meier, log-rank, Cox through Ibis),
``cohort`` (registry schema, synthetic cohorts, the cohort analysis report).
"""
