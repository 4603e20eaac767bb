"""ODK Collect capture (country schema): XLSForms, ODK Central, and the sync."""
