"""Small helpers shared by every app (no models, no schema of its own).

The bottom layer with ``tenants`` and ``accounts``: it imports no other app of
SMS, and every app may import it. See README, "Layout".
"""
