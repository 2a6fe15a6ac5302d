"""(commands are added by their issue)"""
import click


def register(main: click.Group) -> None:
    pass
