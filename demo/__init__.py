"""The "Northwind Retail" demo: a generator of plausible data and the seeding that stores it
through the platform's own write paths. The top layer: it may use every other app."""
