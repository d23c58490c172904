"""The REST compatibility layer: a declarative table of legacy routes, each naming a GraphQL
operation, and one generic handler that runs them (see `api.rest.register`)."""
