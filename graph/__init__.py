"""The Strawberry schema: types, resolvers and loaders over the domain layer."""
