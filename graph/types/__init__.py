"""GraphQL object types, one module per entity; each converts its table row with `from_row`."""
