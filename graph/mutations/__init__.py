"""Mutation root fields, one module per area, merged in `graph.schema`.

Every mutation runs its domain call inside `context.unit_of_work()`: one transaction, committed
once, announced only after the commit.
"""
