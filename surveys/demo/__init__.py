"""The "Northwind Retail" demo: `generator` (pure, no database) and `seed` (writes it)."""
