"""Measuring Hearth on this machine: the logic of each `hearth bench` command."""
