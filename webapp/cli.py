"""`famlink serve`: the web app, on this machine's address by default."""

from __future__ import annotations

from pathlib import Path

import click

from linkage.cli import DB_OPTION, cli
from linkage.config import ConfigError


@cli.command()
@DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (put a TLS proxy in front to serve beyond it: the "
                   "session cookie is sent over HTTPS or to this machine only).")
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--access", "access_config", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Access rules (default: configs/access.yaml).")
def serve(db: Path, host: str, port: int, access_config: Path | None) -> None:
    """Serve the web app for liaisons and program staff over the warehouse at --db (a work
    folder's famlink.duckdb: it always shows the current version, read-only)."""
    import uvicorn

    from webapp.app import create_app

    try:
        app = create_app(db, access_config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    # uvicorn's access log would write each URL and client into the server's log; famlink
    # keeps who saw what in its audit trail instead, and no record value is ever in a URL
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")
