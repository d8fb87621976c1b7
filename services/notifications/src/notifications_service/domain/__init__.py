"""Pure rules of the notifications service: who hears of what, retries, filters, letters."""
