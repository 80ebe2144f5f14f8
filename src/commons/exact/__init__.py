"""The exact layer: the stage game, its equilibria, repeated-game thresholds, bioeconomics,
the shallow lake and evolutionary dynamics on graphs."""
