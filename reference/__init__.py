"""Reference material: model solutions, shipped stubs, mutants and torch oracles."""
