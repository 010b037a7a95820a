"""One resolver for every component: the Spec dataclass's fields say how each argument is read and checked.

A Spec field that comes from an argument carries ``field(metadata=arg(check, default=…, key=…))``; :func:`resolve_spec`
reads those fields in order through the component's :class:`~secret_chain.config.ConfigReader`, which collects every
problem for the one ConfigError, and builds the Spec only when none was recorded. So each field is written once in the
Args TypedDict (type and docstring, for the provider schema) and once in the Spec (check and default).
Pydantic was measured instead (benchmarks/pydantic_probe.py, BENCHMARKS.md "pydantic"): no TypeAdapter over a
``typing.TypedDict`` on Python 3.11, every input required in the schema with the ``typing_extensions`` copy, an Output
passes unchecked, and about 40 ms more import.
"""

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from secret_chain import catalog
from secret_chain.config import ConfigReader, each

S = TypeVar("S")

METADATA = "secret_chain_arg"
"""The key of a Spec field's :class:`Arg` in ``dataclasses.field(metadata=…)``."""


@dataclass(frozen=True)
class Valid:
    """A default that is valid as it is (e.g. built from checked values, some of them Outputs): not checked again."""

    value: Any


@dataclass(frozen=True)
class Arg:
    """How one Spec field is read: see :func:`arg`."""

    check: Callable[[Any], Any] | None
    name: str | None
    default: Any
    key: catalog.Key | None
    required: bool
    plain: bool
    each: bool
    when: Callable[[Mapping[str, Any]], bool] | None

    def default_for(self, got: Mapping[str, Any]) -> Any:
        """The default, computed from the fields read before it when it is a function of them."""
        return self.default(got) if callable(self.default) else self.default


def arg(
    check: Callable[[Any], Any] | None = None,
    *,
    name: str | None = None,
    default: Any = None,
    key: catalog.Key | None = None,
    required: bool | None = None,
    plain: bool = False,
    each: bool = False,
    when: Callable[[Mapping[str, Any]], bool] | None = None,
) -> dict[str, Arg]:
    """The metadata of a Spec field read from argument ``name`` (default: the field's name).

    ``default``: used when the argument is left out; a function of the values read so far (by field name) when
    it depends on them, or :class:`Valid` when it needs no check. ``key``: the argument overrides this catalog
    key, read from config when it is left out (secret or not as the catalog says; the catalog's check is used).
    ``required``: a missing value is a problem (default: true for a config key, false otherwise). ``plain``: the
    value must be plain now, not another resource's output. ``each``: a plain list whose items ``check`` checks,
    each of which may be another resource's output (unless ``plain``). ``when``: read only when this function of the
    values read so far is true (else None, e.g. a token its mode does not use).
    """
    needed = key is not None if required is None else required
    return {METADATA: Arg(check, name, default, key, needed, plain, each, when)}


def spec_args(spec_type: type) -> dict[str, Arg]:
    """Field name → :class:`Arg` of every Spec field read from an argument, in field order."""
    return {f.name: f.metadata[METADATA] for f in dataclasses.fields(spec_type) if METADATA in f.metadata}


def read(spec_type: type, args: Mapping[str, Any], reader: ConfigReader, *, prefix: str = "") -> dict[str, Any]:
    """The checked value of each argument field of ``spec_type`` (None where a problem went to ``reader``).

    ``prefix``: how the arguments are named in messages when they are fields of another argument (``image_automation.``).
    """
    got: dict[str, Any] = {}
    for field_name, how in spec_args(spec_type).items():
        name = how.name or field_name
        if how.when is not None and not how.when(got):
            got[field_name] = None
            continue
        value = args.get(name)
        if value is None:
            value = how.default_for(got)
        if isinstance(value, Valid):
            got[field_name] = value.value
            continue
        shown = prefix + name
        if how.key is not None:
            if how.key.secret:
                got[field_name] = reader.secret(how.key, value, required=how.required, arg_name=shown)
            elif how.plain:
                got[field_name] = reader.plain(how.key, value, required=how.required, arg_name=shown)
            else:
                got[field_name] = reader.plain_input(how.key, value, required=how.required, arg_name=shown)
            continue
        assert how.check is not None, f"{spec_type.__name__}.{field_name}: an argument without a config key needs a check"
        if how.each and how.plain:
            checked = reader.arg(shown, value, each(how.check), required=how.required)
            got[field_name] = None if checked is None else tuple(checked)
        elif how.each:
            items = reader.items(shown, value, how.check, required=how.required)
            got[field_name] = None if items is None else tuple(items)
        elif how.plain:
            got[field_name] = reader.arg(shown, value, how.check, required=how.required)
        else:
            got[field_name] = reader.input(shown, value, how.check, required=how.required)
    return got


def resolve_spec(
    spec_type: Callable[..., S],
    args: Mapping[str, Any],
    reader: ConfigReader,
    *,
    prefix: str = "",
    then: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None,
) -> S | None:
    """``spec_type`` from ``args`` and config, or None when any problem was recorded while resolving it.

    ``then``: called with the values read; returns the Spec's other fields (derived values, parts resolved
    on their own) and records any problem of several values together with ``reader.fail``.
    """
    start = len(reader.problems)
    got = read(spec_type, args, reader, prefix=prefix)  # type: ignore[arg-type]
    if then is not None:
        got.update(then(got))
    if len(reader.problems) > start:
        return None
    return spec_type(**got)
