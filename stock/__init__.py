"""Sites, item categories and types, custom fields, stock items, photos and the
archive. Lives in each country schema."""
