"""gridwatch processes: the CLI, the services manager, the bus and the workers."""
