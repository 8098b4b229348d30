"""Custom Rasa NLU components (this package imports rasa; assistant/ never does)."""
