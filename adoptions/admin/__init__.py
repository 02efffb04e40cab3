"""The staff side of adoptions, split by job:

- catalogue.py: asset types, assets (with the file import), care visits,
- adoptions.py: adoptions (filters for overdue adopters, ending one with a reason, the CSV
  export) and the coverage page (by asset type and by area).

Department staff (the "Department staff" group) see everything here and may end an
adoption with a reason; importing files and editing assets takes the asset permissions
(superusers). Volunteers' email addresses are shown to superusers only."""

from adoptions.admin import adoptions, catalogue  # noqa: F401  (register their admins)
