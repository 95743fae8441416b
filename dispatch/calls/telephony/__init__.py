"""Telephony adapters (decision 7, docs/decisions/): each provider turns its own webhooks into the same
normalised CallEvent (dispatch.calls.telephony.events), which dispatch.calls.actions applies.
Only twilio_adapter imports the twilio SDK."""
