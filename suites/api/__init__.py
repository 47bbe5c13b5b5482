"""The API tier: manila-tempest-plugin's API tests and certkit's own live checks, against real
Manila services (`certkit lab up manila`, or any cloud named by OS_* variables)."""
