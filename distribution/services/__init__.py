"""Write paths of distribution, one module per area: `contacts` (CSV import), `sending`
(invitations, e-mails, reminders, unsubscribe, bounces), `schedules` (beat schedules and
pulse waves) and `cases` (follow-up of detractors)."""
