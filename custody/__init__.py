"""Chain of custody: the tamper-evident custody ledger, transfers between
stores, stock-takes and their discrepancies. Lives in each country schema."""
