"""Screenshots: checked by content, stored under random names, served safely."""
