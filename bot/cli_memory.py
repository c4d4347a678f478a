"""`interest-bot memory ...`: show, export and forget what was learned about a user."""

import typer

app = typer.Typer(help="Inspect, export and forget a user's interest memory.", no_args_is_help=True)


def _not_built() -> None:
    typer.echo("`memory` commands are not built yet (issue: interest memory).", err=True)
    raise typer.Exit(2)


@app.command("show")
def show(user: str) -> None:
    """Show a user's interests (not built yet)."""
    _not_built()


@app.command("export")
def export(user: str) -> None:
    """Export a user's memory as JSON (not built yet)."""
    _not_built()


@app.command("forget")
def forget(user: str, interest: str = typer.Option(None, "--interest")) -> None:
    """Forget a user, or one interest (not built yet)."""
    _not_built()
