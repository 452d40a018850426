"""The network model: primitives (functions, activations, losses), kink conventions,
network specifications, the computation graph and its exact gradients.

Nothing here reads user formulas or judges them; everything else builds on this."""
