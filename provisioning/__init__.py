"""Inventory protocol files -> a ready country.

Runs on the public side (management commands, the platform staff's tooling)
and enters a country schema only explicitly, with ``schema_context``, to
write that country's configuration: sites, item categories and types, custom
fields, roles and its first administrators. It has no models of its own.
"""
