"""A claim's status groups, in one place for the claims service and the topics that follow claims."""

EDITABLE = ("draft", "returned")
IN_FLIGHT = ("in_review",)
FINAL = ("approved", "rejected", "withdrawn", "cancelled")
