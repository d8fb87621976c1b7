"""Pure rules of reporting: periods, measures, lead times and small-number suppression."""
