"""The runner's expected errors: each becomes one line and an exit code, never a traceback."""


class ProjectError(Exception):
    """The project or its configuration cannot be used as it is."""


class UsageProblem(ProjectError):
    """A name or path the user gave does not exist or cannot be used: a usage error (exit 2)."""


class WarehouseError(ProjectError):
    """A query of the warehouse failed: a table dbt built is not there (any more), or the file is unreadable."""
