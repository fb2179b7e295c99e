"""Why the encoder answered as it did: class-activation maps and occlusion, what a channel responds
to, perturbation experiments, why two photos look alike, and predictions layer by layer."""
