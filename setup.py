"""What pyproject.toml cannot say: the repository's `suites/` directory ships inside the certkit
package as `certkit.suites` (never as a top-level `suites` package in site-packages). Every other
setting is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=(find_packages(include=["certkit", "certkit.*"])
              + [f"certkit.{name}" for name in find_packages(include=["suites", "suites.*"])]),
    package_dir={"certkit.suites": "suites"},
)
