"""The audit trail for administrators: every admin edit as an event (admin_edits.py), and the
page that searches the audit events by user, time and object (views.py, reads.py)."""
