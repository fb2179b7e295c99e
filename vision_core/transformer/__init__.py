"""The Transformer lessons' maths, read off real traces."""
