"""The ``vastgraph`` command line: thin commands that parse, call the library and report."""

from __future__ import annotations

import typer

from vastgraph.cli import graph_cmds

app = typer.Typer(name="vastgraph", help="vastgraph: industrial-scale graph learning.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False, add_completion=False)

app.command("build")(graph_cmds.build)
app.command("info")(graph_cmds.info)
app.add_typer(graph_cmds.datasets_app, name="datasets")


def _register_optional() -> None:
    """Commands of later layers, registered here so `--help` lists them all."""
    from vastgraph.cli import embed_cmds, quickstart, sampling_cmds

    from vastgraph.embed.registry import available_embedders

    embed_cmds.register_methods(available_embedders())
    from vastgraph.cli.dynamic_cmds import embed_update

    embed_cmds.embed_app.command("update")(embed_update)
    app.add_typer(embed_cmds.embed_app, name="embed")
    app.command("evaluate")(embed_cmds.evaluate)
    app.command("walk")(sampling_cmds.walk)
    app.command("query")(sampling_cmds.query)
    app.command("quickstart")(quickstart.quickstart)
    from vastgraph.cli.ads_cmds import ads_app
    from vastgraph.cli.delta_cmds import delta_app

    from vastgraph.cli.train_cmds import train

    app.command("train")(train)
    from vastgraph.cli.export_cmds import export

    app.command("export")(export)
    app.add_typer(ads_app, name="ads")
    app.add_typer(delta_app, name="delta")
    __import__("vastgraph.cli.distributed_cmds", fromlist=["register"]).register(app)
    app.command("serve")(__import__("vastgraph.cli.serve_cmds", fromlist=["serve"]).serve)


_register_optional()


def _print_version(value: bool) -> None:
    if value:
        from vastgraph import __version__

        typer.echo(f"vastgraph {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """vastgraph: industrial-scale graph learning."""


if __name__ == "__main__":  # pragma: no cover
    app()
