"""Pure rules of cases: no I/O."""
