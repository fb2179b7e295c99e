"""The CNN lessons' maths, read off real traces."""
