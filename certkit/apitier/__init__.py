"""The API tier's door for suites: a target Manila (ApiTarget), a tempest.lib client that
validates every response and deletes what it created (ManilaClient), the share-type extra specs
a profile's claims ask for, and manila-tempest-plugin driven from a profile (tempest.conf,
`tempest run`, results). Nothing here starts services: certkit.livestack does, above this layer.
"""
