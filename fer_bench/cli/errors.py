"""How the CLI reports a user's mistake: one line, ``Error: ...``, never a traceback.

Exit codes:
- 2: the command line is wrong and nothing ran: an unknown command, option, encoder,
  protocol or dataset (or one of their options), a value out of range or of the wrong
  form, a path that does not exist or cannot be written, protocols that cannot run on
  the datasets given, dataset names that collide. Where a valid name is close, the
  message suggests it;
- 1: what the named files hold is bad (data, label files, images, records, weights,
  checkpoints), found while reading them; the message names the file.

Library errors are mapped here (:func:`as_click_error`), so commands only validate
what the library cannot know (e.g. that a ``--weights`` names an encoder of the run).
``FER_BENCH_DEBUG=1`` lets the original exception through, traceback and all.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import click

from fer_bench.suggest import did_you_mean

DEBUG_ENV = "FER_BENCH_DEBUG"


def suggest(value: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a choice is close to ``value``, else ``""``."""
    return did_you_mean(value, choices)


def _usage_error_types() -> tuple[type, ...]:
    # Unknown names and bad options of encoders, datasets and protocols alike.
    from fer_bench.plugins import SpecError
    return (SpecError,)


def _data_error_types() -> tuple[type, ...]:
    from fer_bench.datasets.base import DatasetError
    from fer_bench.features.entry import InvalidEntry
    from fer_bench.fetch import FetchError
    from fer_bench.images.decode import ImageDecodeError
    from fer_bench.images.facecrop import NoFaceError
    from fer_bench.protocols.context import ProtocolError
    from fer_bench.records.migrate import RecordSchemaError
    from fer_bench.runner import RunError
    from fer_bench.weights import WeightsError
    return (DatasetError, WeightsError, RecordSchemaError, ProtocolError, ImageDecodeError,
            NoFaceError, InvalidEntry, FetchError, RunError, FloatingPointError, OSError)


def one_line(error: BaseException) -> str:
    """The message of ``error`` (its type when it has none)."""
    text = str(error).strip()
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        text = f"{error.filename}: {error.strerror}"
    return text or type(error).__name__


def as_click_error(error: BaseException) -> click.ClickException | None:
    """The click exception that reports ``error`` (None: not a user error, a bug)."""
    if isinstance(error, click.ClickException):
        return error
    if isinstance(error, _usage_error_types()):
        return click.UsageError(one_line(error))
    if isinstance(error, _data_error_types()):
        return click.ClickException(one_line(error))
    return None


# click >= 8.4 raises this for an unknown command, with its close names as "Did you mean"
_NO_SUCH_COMMAND = getattr(click.exceptions, "NoSuchCommand", None)


class SuggestingGroup(click.Group):
    """A group whose "No such command" names the closest command."""

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as e:
            error = e
            if _NO_SUCH_COMMAND is not None and isinstance(e, _NO_SUCH_COMMAND):
                # click looks for close names among the loaded commands only; a lazy
                # group (fer_bench.cli.lazy) lists all of them.
                error = _NO_SUCH_COMMAND(e.command_name, possibilities=self.list_commands(ctx),
                                         ctx=e.ctx)
            if args and "did you mean" not in error.format_message().lower():
                error.message += suggest(args[0], self.list_commands(ctx))
            if error is e:
                raise
            raise error from None


class FerBenchGroup(SuggestingGroup):
    """The top-level group: user errors of any sub-command become one ``Error:`` line."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise                  # bare ``fer-bench``: the help, which needs its context
        except click.UsageError as e:
            e.ctx = None           # no usage block: one line
            raise

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, KeyboardInterrupt,
                click.exceptions.NoArgsIsHelpError):     # a bare group: its help
            raise
        except click.UsageError as e:
            e.ctx = None
            raise
        except click.ClickException:
            raise
        except Exception as e:
            converted = None if os.environ.get(DEBUG_ENV) else as_click_error(e)
            if converted is None:
                raise
            raise converted from None


# -- checks a command makes before any work ------------------------------------------------
def check_writable_dir(path: str | Path, option: str) -> Path:
    """``path`` is, or can be made, a folder this process can write into; nothing is
    created. Raises a usage error naming ``option`` otherwise."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise click.BadParameter(f"{path} is a file, not a folder", param_hint=option)
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise click.BadParameter(f"cannot create {path}: {existing} is a file",
                                 param_hint=option)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise click.BadParameter(f"{existing} is not writable"
                                 + ("" if existing == path else f" (to create {path})"),
                                 param_hint=option)
    return path


_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


def check_device(device: str, option: str = "--device") -> str:
    """``device`` is auto, cpu, mps, cuda or cuda:N, and present on this machine."""
    if not _DEVICE.fullmatch(device or ""):
        raise click.BadParameter(f"{device!r} is not a device; use auto, cpu, cuda, cuda:N or "
                                 "mps" + suggest(device, ("auto", "cpu", "cuda", "mps")),
                                 param_hint=option)
    if device.startswith("cuda"):
        import torch
        if not torch.cuda.is_available():
            raise click.BadParameter(f"{device}: CUDA is not available on this machine; use "
                                     "cpu or auto", param_hint=option)
        index = int(device.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise click.BadParameter(f"{device}: this machine has "
                                     f"{torch.cuda.device_count()} CUDA device(s)",
                                     param_hint=option)
    elif device == "mps":
        import torch
        if not torch.backends.mps.is_available():
            raise click.BadParameter("mps is not available on this machine; use cpu or auto",
                                     param_hint=option)
    return device


def check_encoder_spec(spec: str, option: str = "--encoder") -> None:
    """The encoder named by ``spec`` exists and takes the spec's revision and options
    (nothing is built)."""
    from fer_bench.encoder_registry import spec_options
    from fer_bench.plugins import SpecError
    try:
        spec_options(spec)
    except SpecError as e:
        raise click.BadParameter(str(e), param_hint=option) from None


def check_dataset_spec(spec: str, option: str = "--dataset") -> None:
    """``spec`` names a registered dataset in valid grammar, and the folder of a
    ``folder:PATH`` spec exists (nothing is read)."""
    from fer_bench.datasets.base import DatasetSpecError
    from fer_bench.datasets.registry import split_spec
    try:
        entry, parsed = split_spec(spec)
    except DatasetSpecError as e:
        raise click.BadParameter(str(e), param_hint=option) from None
    if entry.takes_path and not Path(parsed.path).expanduser().is_dir():
        raise click.BadParameter(f"{spec}: folder {parsed.path} does not exist",
                                 param_hint=option)


def check_weights_path(path: str | Path, option: str = "--weights") -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise click.BadParameter(f"{path} does not exist", param_hint=option)
    return path


def use_cache_dir(ctx: click.Context, _param, value):
    """``--cache-dir`` holds the whole cache, not only what a command passes it to:
    generated faces, file digests and face detections are found through
    ``FER_BENCH_CACHE``, so the option sets it for the command (and the worker processes
    it starts), and puts the previous value back when the command ends."""
    if value:
        previous = os.environ.get("FER_BENCH_CACHE")
        os.environ["FER_BENCH_CACHE"] = str(Path(value).expanduser().absolute())

        def restore() -> None:
            if previous is None:
                os.environ.pop("FER_BENCH_CACHE", None)
            else:
                os.environ["FER_BENCH_CACHE"] = previous

        ctx.call_on_close(restore)
    return value


def resolved_cache_dir(cache_dir: str | Path | None, option: str = "--cache-dir") -> Path:
    """The cache folder (``--cache-dir``, else FER_BENCH_CACHE, else the user cache),
    checked to be writable."""
    from fer_bench.paths import cache_dir as resolve_cache
    where = resolve_cache(cache_dir)
    hint = option if cache_dir else ("FER_BENCH_CACHE" if os.environ.get("FER_BENCH_CACHE")
                                     else f"{option} (default cache)")
    return check_writable_dir(where, hint)
