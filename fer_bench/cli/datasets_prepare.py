"""(commands are added by their issue)"""
import click


def register(group: click.Group) -> None:
    pass
