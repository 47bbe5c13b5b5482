"""The live Manila tier: real Manila services (API, scheduler, share) on one machine, with
Keystone, RabbitMQ and PostgreSQL, brought up for a profile's driver (`certkit lab up manila`),
and tempest / manila-tempest-plugin configured from the profile (`certkit run --suite api`).

Layering: this package uses certkit.profile and certkit.harness (the manila.conf group of the
driver is built by the same code the in-process harness uses); nothing below imports it.
"""
