"""The mayor's letter: fetching the details, rendering the PDF, keeping and destroying it."""
