"""Rasa input channels and IM backend clients."""
