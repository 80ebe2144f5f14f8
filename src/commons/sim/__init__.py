"""The simulation layer: the State, the plug-in contract, the round loop, random streams, the
trust network, resources, technologies, decision rules and mechanisms."""
