"""The Streamlit side of Encoder Lens: navigation, the sidebar's choices, cached calls into
vision_core, and a few rendering helpers.  Pages import from here; vision_core never does."""
