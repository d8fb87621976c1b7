"""The cases service: case lifecycle, programmes and teams, deadlines, screening, contacts."""
