"""Admin for the surveys app, one module per area so each stays small; importing a module
registers its model admins."""

from . import invitations, metrics, responses, surveys, units, webhooks

__all__ = ["invitations", "metrics", "responses", "surveys", "units", "webhooks"]
