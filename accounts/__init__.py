"""Users, roles, site scopes, login and two-factor authentication.

Lives in both schemas: the public schema holds platform staff, each country
schema holds that country's own users, roles (groups) and sessions.
"""
