"""SQL for each aggregate. Functions take the session first and never commit."""
