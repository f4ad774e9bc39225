"""The `hearth` command line: one module per command group (parse, call one function, print)."""
