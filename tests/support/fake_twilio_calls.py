"""Kept for the modules that import the voice-call fixture from here: the fake itself, Messages
and Calls in one server, is tests/support/fake_twilio.py."""

from tests.support.fake_twilio import fake_twilio_calls

__all__ = ["fake_twilio_calls"]
