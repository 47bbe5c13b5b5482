"""certkit: certification kit and third-party CI for OpenStack Manila share drivers."""

__version__ = "0.1.0"
