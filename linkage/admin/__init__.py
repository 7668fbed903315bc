"""Admin for the linkage app, one module per area so each stays small."""

from . import (
    leadership,  # noqa: F401  (registers barometer, expectations, initiatives, audit log)
    outcomes,  # noqa: F401  (registers OutcomeImport and its upload page)
    runs,  # noqa: F401  (registers LinkageRun and ChainLink)
)
