"""The installed version of commons."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version

try:
    version: str = _dist_version("commons-engine")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    version = "0+unknown"
