"""fer-edge: facial-expression recognition from a research table to a camera on a Raspberry Pi.

Importing the package (and anything under ``fer_edge.runtime`` or ``fer_edge.data``) never
imports TensorFlow; only ``fer_edge.models``, ``fer_edge.training`` and ``fer_edge.convert`` do.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fer-edge")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
