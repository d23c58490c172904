"""Who is calling: bearer tokens (HS256 or the identity provider's JWKS) turned into a Principal.

Nothing here knows HTTP or GraphQL: `api.authentication` reads the header, `graph.access` decides
what the principal may do.
"""
