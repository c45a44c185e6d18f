"""The per-template compile stages, one module each; ``renderer.compiler`` orders them."""
