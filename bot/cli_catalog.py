"""`interest-bot catalog ...`: ingest and list catalogs."""

import typer

app = typer.Typer(help="Ingest and list catalogs.", no_args_is_help=True)


@app.command("ingest")
def ingest(source: str = typer.Argument("movielens-100k", help="built-in name or a .csv/.jsonl file")) -> None:
    """Ingest a catalog (not built yet)."""
    typer.echo("`catalog ingest` is not built yet (issue: memory and catalog).", err=True)
    raise typer.Exit(2)


@app.command("list")
def list_() -> None:
    """List ingested catalogs (not built yet)."""
    typer.echo("`catalog list` is not built yet (issue: memory and catalog).", err=True)
    raise typer.Exit(2)
