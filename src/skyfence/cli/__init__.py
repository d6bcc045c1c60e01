"""Command line: ``skyfence detect|warn|demo|identify|synth``.

``main(argv) -> int``; each subcommand lives in its own module with
``add_arguments(parser)`` and ``run(args) -> int`` and is imported only when
used.  Every :class:`~skyfence.SkyfenceError` ends as one line on stderr and
exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from importlib import import_module

# a command's cyclic garbage collection waits for a million new objects instead of 700: the
# libraries' imports and compiled-code loading make about a million that all live as long as
# the process, and passing over them again and again cost 10 % of a small command's CPU
GC_THRESHOLD = 1_000_000
_GC_DEFAULT = gc.get_threshold()

COMMANDS = {
    "detect": ("._detect", "find every episode of every aircraft inside every zone"),
    "warn": ("._warn", "warn before aircraft enter zones: predicted entries and near misses"),
    "demo": ("._demo", "reconstruct the 2015 Yayladagi incidents and detect them"),
    "identify": ("._identify", "state of registry and military/state/civil identity of aircraft"),
    "synth": ("._synth", "write synthetic global traffic as OpenSky state vectors (partitioned Parquet)"),
}


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="skyfence", description="Exact airspace-breach detection.")
    parser.add_argument("--version", action="version", version=f"skyfence {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, helptext) in COMMANDS.items():
        p = sub.add_parser(name, help=helptext, description=helptext)
        mod = import_module(module, __name__)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .._errors import SkyfenceError

    # skyfence does no floating-point linear algebra: one BLAS thread, so that numpy's
    # OpenBLAS does not start a thread per core that spins for a while (0.1 s of CPU)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    gc.set_threshold(GC_THRESHOLD, *_GC_DEFAULT[1:])
    try:
        args = build_parser().parse_args(argv)
        return int(args._run(args))
    except SkyfenceError as err:
        print(f"skyfence: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 1
    finally:
        gc.set_threshold(*_GC_DEFAULT)


def started() -> None:
    """A command's libraries and inputs are loaded: what exists now lives as
    long as the process, frozen out of the collector's way (its full passes
    over it cost 4 % of a large run)."""
    gc.freeze()
