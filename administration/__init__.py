"""Country administration (country schema only): user management, custom
roles, support grants for platform staff, corrections waiting for approval,
and the screens of the access log and of the change oversight.

The access log itself (``audit.AccessEvent``) lives in the ``audit`` app,
which is in both schemas; the public-side summary of support grants too.
"""
