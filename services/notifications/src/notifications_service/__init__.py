"""The notifications service: in-app inbox, e-mail, partner webhooks, the mayor's letter."""
