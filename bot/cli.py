"""The `interest-bot` command line (typer)."""

from __future__ import annotations

import os
import time

import typer

from . import cli_catalog, cli_memory
from .config import Settings

app = typer.Typer(
    help="interest-bot: a chatbot that learns what you like and recommends from a catalog.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
models_app = typer.Typer(help="Prepare and inspect the local models.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(cli_catalog.app, name="catalog")
app.add_typer(cli_memory.app, name="memory")


@models_app.command("prepare")
def models_prepare(force: bool = typer.Option(False, help="convert again even when already prepared")) -> None:
    """Convert the default chat model once and check the encoder loads (no network needed)."""
    from interest_bot.plugins.interest.encoding.encoder import encoder_for
    from interest_bot.plugins.interest.encoding.onnx_encoder import OnnxInt8Encoder
    from interest_bot.plugins.interest.errors import EncoderBuildError, ModelNotInstalledError

    from .models import is_prepared, prepare_local_model

    settings = Settings()
    try:
        if is_prepared(settings.models_dir) and not force:
            typer.echo(f"chat model: already prepared in {settings.models_dir}")
        else:
            started = time.perf_counter()
            path = prepare_local_model(settings.models_dir, force=force)
            typer.echo(f"chat model: prepared {path} in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        enc = encoder_for(settings.plugin_config())
        built = f", built as {enc.onnx_file}" if isinstance(enc, OnnxInt8Encoder) else ""
        typer.echo(f"encoder: {enc.path} ({enc.quantization}{built}) ready in {time.perf_counter() - started:.1f} s")
    except (ModelNotInstalledError, EncoderBuildError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


@app.command()
def serve(
    host: str = typer.Option(None, help="bind address (default from IBOT_HOST)"),
    port: int = typer.Option(None, help="port (default from IBOT_PORT)"),
) -> None:
    """Serve the chat UI and the HTTP API."""
    import uvicorn

    from .server import create_app

    settings = Settings()
    if host:
        settings.host = host
    if port:
        settings.port = port
    from .auth import AuthConfigError, check_serve_settings

    try:
        check_serve_settings(settings)
    except AuthConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"interest-bot serving on http://{settings.host}:{settings.port}")
    uvicorn.run(create_app(settings, ui=settings.serve_ui), host=settings.host, port=settings.port, log_level="info")


@app.command()
def chat(
    user: str = typer.Option("local-user", "--user", help="whose interest memory to use"),
    thread: str = typer.Option("terminal", "--thread", help="conversation thread"),
) -> None:
    """Chat in the terminal with the same agent the server uses (Ctrl-D or /quit to leave)."""
    from interest_bot.memory.userid import InvalidUserIdError, validate_user_id
    from interest_bot.plugins.interest.errors import InterestBotError

    from .services import Services

    try:
        validate_user_id(user)
        services = Services(Settings())
        session = services.chat_for(services.plugin)
    except (InvalidUserIdError, InterestBotError, RuntimeError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Chatting as {user!r} ({services.plugin.catalog_name}). Ctrl-D or /quit to leave.")
    while True:
        try:
            message = input("you> ").strip()
        except EOFError:
            break
        if message in {"/quit", "/exit"}:
            break
        if not message:
            continue
        typer.echo("bot> ", nl=False)
        for event in session.stream(user, message, thread):
            if event["type"] == "token":
                typer.echo(event["text"], nl=False)
        typer.echo("")
    services.plugin.close()


@app.command()
def token(
    user: str = typer.Argument(..., help="the user id the token proves"),
    ttl: int = typer.Option(86400, "--ttl", help="seconds until the token expires"),
) -> None:
    """Print a user token for IBOT_AUTH=user (signed with IBOT_AUTH_SECRET); send it as `Authorization: Bearer`."""
    from interest_bot.memory.userid import InvalidUserIdError

    from .auth import AuthConfigError, issue_token

    settings = Settings()
    try:
        typer.echo(issue_token(settings.auth_secret, user, ttl))
    except (AuthConfigError, InvalidUserIdError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def main() -> None:
    """Console-script entry point."""
    # Files this process creates (SQLite and its WAL, Chroma segments, exports) are owner-only from the start.
    os.umask(0o077)
    app()


if __name__ == "__main__":
    main()
