"""The two kinds of transform step and the rule each follows.

Every step maps rows of values (N, F_in) to rows (N, F_out) and back, and may read the
physical conditions of each event (the incident energy of a shower):
``forward(x, conditions)``, ``inverse(y, conditions)``.

- :class:`ColumnStep` acts on each listed column on its own (all columns when
  ``columns`` is None) and keeps the width; subclasses write ``_forward``/``_inverse``
  on the selected block (N, F_selected).
- :class:`RowStep` maps whole rows, because its columns only mean something together
  (the four components of a momentum, the voxels of one shower); subclasses write
  ``forward``/``inverse`` themselves and, when they change the width, ``output_width``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np


@dataclass
class Step:
    """Base of all steps: JSON form and the width it gives; subclasses define the maths."""

    kind: ClassVar[str] = ""

    def forward(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    def inverse(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    def inverse_owned(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        """:meth:`inverse` of float64 ``values`` that the caller owns and no longer needs, so
        the step may write into them instead of copying (a chain's inverse: every copy of a
        100k-shower batch is 200 MB to write). The same result as :meth:`inverse`."""
        return self.inverse(values, conditions)

    def output_width(self, input_width: int) -> int:
        """Columns out of ``forward`` for ``input_width`` columns in (the same by default)."""
        return input_width

    def to_dict(self) -> dict[str, Any]:
        params = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return {"kind": self.kind, **params}


@dataclass
class ColumnStep(Step):
    """A step that treats each of ``columns`` (all when None) on its own; width unchanged."""

    columns: list[int] | None = None

    def forward(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return self._apply(self._forward, values, conditions)

    def inverse(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        return self._apply(self._inverse, values, conditions)

    def inverse_owned(self, values: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        """The selected columns' inverse written into ``values`` itself: by
        :meth:`_inverse_into` where they are a view (all, or consecutive ones)."""
        columns = slice(None) if self.columns is None else as_slice(self.columns)
        if isinstance(columns, slice):
            self._inverse_into(values[:, columns], conditions)
        else:
            values[:, columns] = self._inverse(values[:, columns], conditions)
        return values

    def _inverse_into(self, block: np.ndarray, conditions: np.ndarray | None) -> None:
        """:meth:`_inverse` of ``block`` (a view of the selected columns) written into it;
        subclasses that can compute in place override it to skip the temporary."""
        block[...] = self._inverse(block, conditions)

    def _apply(
        self,
        function: Callable[[np.ndarray, np.ndarray | None], np.ndarray],
        values: np.ndarray,
        conditions: np.ndarray | None,
    ) -> np.ndarray:
        """``function`` on the selected columns of float64 ``values`` (N, F), the others kept;
        on all columns it returns ``function``'s own array (a copy to write into would cost a
        tiny batch microseconds a step). ``function`` never writes into its argument."""
        values = np.asarray(values, dtype=np.float64)
        if self.columns is None:
            return function(values, conditions)
        out = values.copy()
        cols = as_slice(self.columns)
        out[:, cols] = function(out[:, cols], conditions)
        return out

    def _forward(self, x: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    def _inverse(self, y: np.ndarray, conditions: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError


@dataclass
class RowStep(Step):
    """A step that maps whole rows: ``forward``/``inverse`` (and ``output_width`` when the
    width changes) are the subclass's own."""


def as_slice(columns: list[int]) -> slice | np.ndarray:
    """Consecutive ascending columns as a slice (a view, no gather), else an index array."""
    if columns and bool(np.all(np.diff(columns) == 1)):
        return slice(columns[0], columns[-1] + 1)
    return np.asarray(columns, dtype=np.intp)


def condition_column(conditions: np.ndarray | None, index: int) -> np.ndarray:
    """Column ``index`` of the conditions (N, C) as float64 (N,); ValueError if it is absent."""
    if conditions is None or conditions.ndim != 2 or conditions.shape[1] <= index:
        raise ValueError(f"this transform needs condition column {index}; got {conditions!r:.80}")
    return np.asarray(conditions[:, index], dtype=np.float64)  # (N,)
