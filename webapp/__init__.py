"""`famlink serve`: the web app for liaisons and program staff (FastAPI; kept out of
`linkage/`, which never imports a web framework).

Pages are rendered on the server (Jinja2, every value escaped); every script and style ships in
`static/` (no internet at run time). Who sees what comes from configs/access.yaml
(`linkage.access.settings`); users, sessions and lockouts live in the work folder's access
store (`linkage.access.users`); every view, download and decision goes to the append-only
audit store (`linkage.access.audit`). The app only reads the current warehouse version.
"""
