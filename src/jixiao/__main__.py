"""``python -m jixiao`` runs the CLI."""

from .cli import main

main(prog_name="jixiao")
