"""The signals service: where personal data enters buurtsignaal."""
