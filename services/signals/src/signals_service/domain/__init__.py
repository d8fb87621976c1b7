"""Pure rules of intake and identity: no I/O."""
