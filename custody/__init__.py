"""Chain of custody: transfers between stores, stock-takes and their
discrepancies, each recorded in the custody ledger (the ``ledger`` app).
Lives in each country schema."""
