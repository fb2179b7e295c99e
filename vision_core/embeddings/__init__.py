"""The embedding lab's maths: vectors, galleries, neighbours, maps."""
