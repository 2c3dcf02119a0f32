"""The errors a command ends with on purpose; ``azak_cli.main`` turns them into exit codes."""


class UsageError(ValueError):
    """The command line asks for something impossible; the message says what to change."""
