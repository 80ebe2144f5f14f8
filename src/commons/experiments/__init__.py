"""The experiments layer: the scenario catalog, studies, study files and sweeps."""
