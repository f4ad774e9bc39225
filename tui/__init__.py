"""Hearth: the Textual chat client and the `hearth` command line."""
