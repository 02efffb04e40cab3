"""The write layer of reports: every change to a report, its photos, its followers and the
API keys goes through a function here. Each validates, saves inside one transaction, and
queues background work only once that transaction has committed.

- `requests`: filing a report (web form, Open311 API, data generators).
- `triage`: what staff do to a report (state, notes, assignment, forwarding, duplicates,
  category, moderation).
- `photos`: photo moderation (processing lives in `reports.photos`, run by the tasks).
- `subscriptions`: following a report by email.
- `api_keys`: issuing keys to Open311 clients.
- `catalogue`: saving a category whose move to another group reaches its group's routing
  rules.
- `timeline`: the timeline entries and row locking the others share.
"""
