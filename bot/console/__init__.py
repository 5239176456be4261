"""The staff console: `/staff` on the web chat's server, a thin layer over the API the CLI uses.

`accounts` (roles, passwords, second factor, sign-in), `routes` (every route with the roles that may
use it), `app` (the aiohttp sub-application the composition root hands to the web transport) and
`dashboard` (the live counts).
"""
