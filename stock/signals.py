"""What the correction path tells the layers above it (country schema).

Stock sits below the access log (audit) and the approval pages
(administration) and imports neither; they connect receivers to these in
their ``ready()``. Each is sent inside the transaction of the change, so a
receiver's record commits or rolls back with it.

Keyword arguments: ``actor`` (who asked or decided), ``pending`` (the
PendingCorrection), ``origin`` (whatever the caller passed along: the
request's address and browser, or None for the ODK sync), and for
``correction_approved`` ``changes`` (the ItemChange rows written).
"""

from django.dispatch import Signal

correction_requested = Signal()
correction_approved = Signal()
correction_rejected = Signal()
