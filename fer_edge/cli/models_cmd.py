"""``fer-edge models``: the registered architectures with their parameter counts."""

from __future__ import annotations

import click


@click.command()
@click.option(
    "--channels",
    type=click.IntRange(1, 3),
    default=None,
    help="Build with this many input channels (default: each one's own).",
)
def models(channels: int | None) -> None:
    """List the registered architectures with their parameter counts."""
    from fer_edge.models import ARCHITECTURES

    click.echo(f"{'name':<18} {'input':<12} {'params':>10}  description")
    for arch in ARCHITECTURES.values():
        ch = channels or arch.default_channels
        try:
            model = arch.build(ch)
        except Exception as e:  # noqa: BLE001 - one architecture not fitting a channel count is not fatal
            click.echo(f"{arch.name:<18} {'-':<12} {'-':>10}  {e}")
            continue
        click.echo(f"{arch.name:<18} {'48x48x' + str(ch):<12} {model.count_params():>10,}  {arch.description}")
