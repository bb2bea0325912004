"""The ``coderag`` command line: ``main`` builds the Typer app from one module per command group."""
