"""Domain rules as plain, typed functions: the state machine, stats and milestone definitions.

Resolvers call these; these call `models`; nothing here knows about GraphQL or HTTP.
"""
