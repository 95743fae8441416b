"""Telephony adapters (BRIEF decision 7): each provider turns its own webhooks into the same
normalised CallEvent (dispatch.telephony.events), which dispatch.actions.calls applies.
Only twilio_adapter imports the twilio SDK."""
