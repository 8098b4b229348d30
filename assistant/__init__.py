"""Deskmate core: directory, store, audit, API. Never imports rasa or rasa_sdk (see DESIGN.md)."""

__version__ = "0.1.0"
