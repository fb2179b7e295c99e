"""The engine: tracing, traced layers, the encoders, their weights and checkpoints, preprocessing."""
