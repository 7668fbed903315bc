"""Write paths of the linkage app, one module per area (metrics, outcomes, runs, leadership)."""
