"""Customer accounts, tariffs and transformers: `models`, `querysets`, `selectors` (tariffs), `services`
(role groups, the audit trail), `admin` (where all of it is edited), `api/serializers`, `tests`.

No `views` and no `tasks`: these are edited in the admin and nothing here runs in the background.
What a user may see of them depends on hostels (`meters`, above), so their scoped reads and API
endpoints are `meters.selectors.accounts` and `meters.api.accounts`.
"""
