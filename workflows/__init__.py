"""Temporal workflows: one ContractWorkflow per contract."""
