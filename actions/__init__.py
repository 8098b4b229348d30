"""Thin rasa_sdk actions: read the tracker, call a service of the core, reply. No business rule lives here."""
