"""Countries (the tenants) and their host names. Lives in the public schema only."""
