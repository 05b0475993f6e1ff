"""Build hook: the package carries a native library (nncore/libnncore.so, copied in by
`make build`), so its wheel must be platform-specific rather than "py3-none-any"."""
import sys
from pathlib import Path

from setuptools import setup
from setuptools.dist import Distribution


class BinaryDistribution(Distribution):
    """Marks the distribution as having native code, which gives the wheel a platform tag."""

    def has_ext_modules(self):
        return True


if not (Path(__file__).parent / "nncore" / "libnncore.so").exists():
    print("warning: nncore/libnncore.so is missing (run `make build` first); the installed package "
          "will look for libnncore.so in NNCORE_LIBRARY, the build tree and the system instead",
          file=sys.stderr)

setup(distclass=BinaryDistribution)
