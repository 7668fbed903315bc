"""Plumbing both domain apps share: the timestamp base, the audit log, domain errors that carry
their HTTP meaning, user roles, spreadsheet safety and the REST API's building blocks.

The bottom layer: it imports no other app of the project.
"""
