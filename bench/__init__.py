"""The benchmark of buurtsignaal (figures, not timed tests): ``./dev bench``."""
