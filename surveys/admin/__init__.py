"""Admin for the surveys app, one module per area so each stays small."""

from . import invitations, responses, surveys, units, webhooks

__all__ = ["invitations", "responses", "surveys", "units", "webhooks"]
