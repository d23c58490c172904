"""Query root fields, one module per area, merged in `graph.schema`."""
