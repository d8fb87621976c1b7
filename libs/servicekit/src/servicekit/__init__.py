"""What every buurtsignaal service shares: one way of doing each thing."""
