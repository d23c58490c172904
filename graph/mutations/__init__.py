"""Mutation root fields, one module per area, merged in `graph.schema`.

Every mutation runs its domain call inside `context.unit_of_work()`: one transaction, committed
once, announced only after the commit. In that block it says what it changed, once, with
`graph.audit.audited` (the audit trail, written in the same transaction).
"""
