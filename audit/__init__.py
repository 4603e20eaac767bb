"""The access log (who saw what and when) and the public-side summary of
support grants.

Schema: BOTH. The app is in SHARED_APPS and TENANT_APPS, so each of its tables
exists in the public schema and in every country schema:

- ``AccessEvent`` is used in both: each country keeps its own log in its own
  schema; the public schema's log records platform staff signing in to the
  console.
- ``SupportGrantSummary`` is only ever written and read in the public schema
  (the platform console shows staff the grants they hold). Its copies in the
  country schemas stay empty: django-tenants creates an app's tables in every
  schema the app is listed for, and this summary must be on the public side.

Nothing here has a foreign key to country-only tables (sites, items), because
the same tables exist in the public schema where those do not.
"""
