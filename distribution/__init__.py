"""Reaching people and closing the loop: contacts, e-mail invitations and their send log,
reminder and pulse-wave schedules (django-celery-beat), response rates and follow-up cases
for detractors. Builds on `surveys` (Invitation, Survey, OrgUnit, Response); nothing below
imports it."""
