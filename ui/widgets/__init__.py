"""The widgets the pages share: the sidebar, the navigation, the page header, the encoder choice with
its weights help, the photo-source picker, and pickers that a click on a picture also sets."""
