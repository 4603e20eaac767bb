"""The custody ledger (country schema): one hash-chained, append-only record
of every change to an item's custody, place, weight or status.

A layer of its own between the bottom (tenants, accounts, core) and the
register (stock): stock and custody both append to it, reporting reads it, and
it imports none of them — its references to items, sites, transfers and
stock-takes are by model name, and it tells listeners (reporting's aggregates)
about each entry through ``ledger.listeners``, registered in their
``AppConfig.ready()``. See README, "Layout" and "The custody ledger".
"""
