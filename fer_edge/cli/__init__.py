"""The ``fer-edge`` command line (Click); each command group lives in its own module."""
