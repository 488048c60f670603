"""The ``tongban`` command: runs the services, alone or all together."""
