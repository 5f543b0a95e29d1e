# requires: click (python3-click)
"""click: a group with subcommands, options, arguments, types, run through CliRunner."""
import click
from click.testing import CliRunner


@click.group()
@click.option("--verbose", "-v", count=True)
@click.pass_context
def cli(ctx, verbose):
    ctx.obj = {"v": verbose}


@cli.command()
@click.argument("name")
@click.option("--times", type=click.IntRange(1, 5), default=1)
@click.option("--shout/--no-shout")
@click.pass_obj
def greet(obj, name, times, shout):
    for _ in range(times):
        click.echo((f"hello {name}" + "!" * obj["v"]).upper() if shout else f"hello {name}" + "!" * obj["v"])


@cli.command()
@click.option("--color", type=click.Choice(["red", "blue"]))
def paint(color):
    click.secho(f"paint {color}", fg=color)


r = CliRunner()
print(r.invoke(cli, ["-vv", "greet", "ann", "--times", "2", "--shout"]).output)
print(r.invoke(cli, ["paint", "--color", "red"], color=True).output.encode())
res = r.invoke(cli, ["greet", "x", "--times", "9"])
print(res.exit_code, res.output.splitlines()[-1])
print(r.invoke(cli, ["--help"]).output)
