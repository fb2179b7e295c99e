"""``encoder-lens``: the project's console command.

    encoder-lens embed PHOTOS --model efficientnet_lite0 --out vectors.parquet [--engine local|ray]
                       [--batch-size N] [--chunk-size N] [--workers N]

PHOTOS is a folder (labels: the folder each photo is in) or a zip of one.  A progress bar and the
list of skipped files go to stderr, the closing summary to stdout.  Running the same command
again embeds only the photos not in ``--out`` yet.  Exit status: 0 when the run finished (bad
files are listed, never fatal), 2 when it could not start, 130 when interrupted (what was
written is kept: run the command again to go on).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from vision_core.batch import pipeline, store
from vision_core.embeddings.vectors import EMBED_BATCH
from vision_core.engine import encoders
from vision_core.engine.weights import WeightsUnavailable


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="encoder-lens", description="Encoder Lens from the command line.")
    commands = top.add_subparsers(dest="command", required=True)
    embed = commands.add_parser(
        "embed",
        help="embed a folder or zip of photos into a Parquet file the embedding lab opens",
        description="Embed every photo of a folder (or a zip of one) with an encoder's trained weights. "
        "Labels are the names of the folders the photos are in. A rerun with the same --out embeds "
        "only the photos that are not in it yet (matched by the SHA-256 of each file).",
    )
    embed.add_argument("photos", type=Path, metavar="PHOTOS", help="a folder of photos, or a .zip of one")
    embed.add_argument("--model", default=encoders.DEFAULT, choices=encoders.names(), help="the encoder")
    embed.add_argument("--out", type=Path, required=True, help="the Parquet file to write (or to resume)")
    embed.add_argument("--engine", choices=("local", "ray"), default="local", help="where to run")
    embed.add_argument("--batch-size", type=_positive, default=EMBED_BATCH, help="photos per forward pass")
    embed.add_argument(
        "--chunk-size", type=_positive, default=pipeline.CHUNK, help="photos per chunk written to disk"
    )
    embed.add_argument(
        "--workers", type=_positive, default=2, help="Ray actors holding the model (--engine ray)"
    )
    return top


def _summary(args: argparse.Namespace, s: pipeline.Summary) -> list[str]:
    known = "already in the output" + (" (or repeated in the zip)" if pipeline.is_zip(args.photos) else "")
    lines = [
        f"files looked at: {s.total}",
        f"embedded now: {s.new}",
        f"{known}: {len(s.known)}",
        f"skipped: {len(s.skipped)}",
    ]
    if s.repeated:
        lines.append(f"the same photo as another file (written once): {len(s.repeated)}")
    lines.append(
        f"{args.out}: {s.rows} photos, {args.model}, {encoders.get(args.model).embedding_dim} numbers each"
    )
    return lines


def embed(args: argparse.Namespace) -> int:
    if not args.photos.exists():
        print(f"encoder-lens: {args.photos} does not exist", file=sys.stderr)
        return 2
    if not (args.photos.is_dir() or pipeline.is_zip(args.photos)):
        print(f"encoder-lens: {args.photos} is neither a folder nor a .zip file", file=sys.stderr)
        return 2
    bar = tqdm(total=0, unit="photo", desc="embedding", file=sys.stderr, dynamic_ncols=True, delay=3600)

    def total(n: int) -> None:  # the bar appears once the number of files is known
        bar.total, bar.delay = n, 0
        bar.refresh()

    kwargs = {"batch_size": args.batch_size, "chunk_size": args.chunk_size, "on_total": total}
    summary: pipeline.Summary | None = None
    try:
        if args.engine == "ray":
            from vision_core.batch.ray_engine import embed_ray

            summary = embed_ray(
                args.photos, args.out, args.model, workers=args.workers, on_progress=bar.update, **kwargs
            )
        else:
            summary = pipeline.embed_local(
                args.photos, args.out, args.model, on_progress=bar.update, **kwargs
            )
    except (store.BatchError, WeightsUnavailable) as error:
        bar.close()
        print(f"encoder-lens: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        bar.close()
        print(
            f"encoder-lens: interrupted; what was embedded is in {args.out}: run again to go on",
            file=sys.stderr,
        )
        return 130
    bar.close()
    for skipped in summary.skipped:
        print(f"skipped {skipped.name}: {skipped.reason}", file=sys.stderr)
    for note in summary.notes:
        print(f"note: {note}", file=sys.stderr)
    print("\n".join(_summary(args, summary)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return embed(args)


if __name__ == "__main__":
    sys.exit(main())
