"""Who may see what, and a record of who saw what: users, sessions, the access rules of
configs/access.yaml and the append-only audit trail. The web app (`webapp`) and the CLI
(`famlink users`, `famlink audit`) are thin layers over these.
"""
