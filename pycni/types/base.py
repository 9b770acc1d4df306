"""The abstract :class:`Result` shared by the three result families."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from .. import _json
from ..errors import ResultError, go_list, go_quote
from . import _codec
from .common import DNS, Route


class Result:
    """A plugin's ADD result; concrete classes are Result020, Result040 and Result100.

    Results are immutable attrs models. ``to_dict``/``to_json``/``to_bytes`` give exactly the JSON
    libcni emits for the family; ``convert_to`` gives the same result in another spec version.
    """

    __slots__ = ()

    #: Every ``cniVersion`` this family parses, in libcni's order (used in error messages).
    FAMILY_VERSIONS: ClassVar[tuple[str, ...]] = ()
    #: The newest version of the family (libcni ``ImplementedSpecVersion``).
    IMPLEMENTED_VERSION: ClassVar[str] = ""
    #: Whether libcni writes this family's JSON with sorted keys (1.x re-marshals a map).
    SORT_KEYS: ClassVar[bool] = False

    cni_version: str

    # -- typed views, narrowed by each family --------------------------------------------------

    @property
    def interfaces(self) -> Sequence[Any]:
        """The interfaces the plugin created (none for 0.1.0/0.2.0 results)."""
        raise NotImplementedError

    @property
    def ips(self) -> Sequence[Any]:
        """The IP configurations, in order."""
        raise NotImplementedError

    @property
    def routes(self) -> Sequence[Route]:
        """Every route of the result, in order."""
        raise NotImplementedError

    @property
    def dns(self) -> DNS:
        """The DNS settings (possibly empty)."""
        raise NotImplementedError

    # -- conversion and serialisation ----------------------------------------------------------

    def convert_to(self, version: str) -> Result:
        """This result in spec ``version`` (``""`` means 0.1.0); the same object when unchanged.

        Raises :class:`~pycni.errors.ConversionError` for unknown versions and for lossy
        down-conversions to 0.1.0/0.2.0 that leave no IP address.
        """
        from .convert import convert

        return convert(self, version)

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data, with libcni's emission and omission rules."""
        return _codec.unstructure(self)

    def to_json(self, indent: int | None = None) -> str:
        """JSON text; compact without ``indent`` (numbers written as Go writes them)."""
        separators = (",", ": ") if indent is not None else (",", ":")
        return _json.dumps(
            self.to_dict(), indent=indent, separators=separators, sort_keys=self.SORT_KEYS
        )

    def to_bytes(self) -> bytes:
        """Compact UTF-8 JSON (what a plugin writes to stdout, what the cache stores).

        Text holding a lone surrogate has no UTF-8 form; such a result is written with ``\\u``
        escapes instead (ASCII, the same value when decoded).

        Returns:
            The JSON bytes.
        """
        text = self.to_json()
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            return _json.dumps(
                self.to_dict(), separators=(",", ":"), sort_keys=self.SORT_KEYS, ensure_ascii=True
            ).encode("ascii")

    def __str__(self) -> str:
        """JSON indented by 4 spaces, as libcni's ``Print`` writes it."""
        return self.to_json(indent=4)

    def _brief_fields(self) -> list[str]:
        parts = []
        if self.interfaces:
            parts.append(f"interfaces=[{' '.join(i.brief() for i in self.interfaces)}]")
        if self.ips:
            parts.append(f"ips=[{' '.join(i.brief() for i in self.ips)}]")
        if self.routes:
            parts.append(f"routes=[{', '.join(r.brief() for r in self.routes)}]")
        if not self.dns.is_empty():
            parts.append(f"dns={self.dns.brief()}")
        return parts

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join([self.cni_version, *self._brief_fields()])})"

    def _repr_html_(self) -> str:
        """Notebook display: a compact HTML table (rendered by :mod:`pycni._display`)."""
        from .. import _display

        return _display.result_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython display: a few aligned lines instead of the JSON of ``str()``."""
        from .. import _display

        _display.pretty(self, printer, cycle)


def family_version_error(cls: type[Result], version: str) -> ResultError:
    """libcni's creator check: ``result type supports [1.0.0 1.1.0] but unmarshalled ...``."""
    return ResultError(
        f"result type supports {go_list(cls.FAMILY_VERSIONS)} but unmarshalled CNIVersion is "
        f"{go_quote(version)}"
    )
