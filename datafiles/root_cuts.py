"""Event selections ("cuts") written as simple expressions over branch names.

A cut is Python-like syntax that keeps an event when it evaluates to true, e.g.
``"NMuon >= 2 and MET_px > -50"``, ``"abs(eta1) < 2.4 and Q1 * Q2 < 0"`` or,
over jagged branches, ``"any(Muon_pt > 25)"``. Allowed: branch names, numbers,
``+ - * / ** %``, comparisons (chains like ``0 < x < 5`` too), ``and or not``
and their element-wise forms ``& | ~`` (which bind tighter than comparisons, as
in Python: write ``(x > 1) & (y < 2)``), the functions in :data:`FUNCTIONS` and,
to turn a per-object condition into a per-event one, the reductions over the
objects of each event in :data:`REDUCTIONS`. The expression is parsed with
:mod:`ast` and evaluated on arrays, never with ``eval``, so a cut cannot run code.

We evaluate cuts ourselves rather than passing uproot's ``cut=``: uproot 5.7
ignores ``cut=`` on RNTuples (it returns every entry) and applies a per-object
condition such as ``Jet_Px > 2`` to the objects instead of the events; here both
trees and RNTuples get the same cut, and a per-object cut is an error.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hepgan.errors import ConfigError

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": np.abs,
    "sqrt": np.sqrt,
    "exp": np.exp,
    "log": np.log,
    "log10": np.log10,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "arctan2": np.arctan2,
    "hypot": np.hypot,
}
#: Reductions over the objects of each event (axis 1 of a jagged branch).
#: ``min``/``max`` of an event without objects give NaN, so comparisons with them are false.
REDUCTIONS = ("any", "all", "sum", "count", "min", "max")


@dataclass(frozen=True)
class Cut:
    """A parsed cut: its source text and the branch names it reads."""

    expression: str
    names: tuple[str, ...]
    tree: ast.Expression

    def evaluate(self, arrays: Mapping[str, Any]) -> np.ndarray:
        """Return the per-event mask (N,) bool; ``arrays`` maps each name in :attr:`names`."""
        import awkward as ak

        n_events = len(arrays[self.names[0]]) if self.names else None
        try:
            value = _Evaluator(arrays).visit(self.tree.body)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"cut {self.expression!r} cannot be evaluated: {err}") from err
        is_awkward = isinstance(value, ak.Array)
        if is_awkward and value.ndim > 1:
            raise ConfigError(
                f"cut {self.expression!r} gives one value per object, not one per event; "
                f"reduce it with one of {', '.join(REDUCTIONS)}, e.g. any(Muon_pt > 25)"
            )
        mask = np.asarray(ak.to_numpy(value) if is_awkward else value)
        if mask.dtype != np.bool_ or mask.ndim != 1 or (n_events and len(mask) != n_events):
            raise ConfigError(
                f"cut {self.expression!r} must give one true/false per event, "
                f"got {mask.dtype} values of shape {mask.shape}; use a comparison such as x > 0"
            )
        return mask


def parse_cut(expression: str) -> Cut:
    """Parse ``expression``; raises :class:`ConfigError` naming it when it is not a valid cut."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as err:
        raise ConfigError(f"cut {expression!r} is not a valid expression: {err.msg}") from err
    names: list[str] = []
    for node in ast.walk(tree.body):
        _check_node(node, expression)
        if isinstance(node, ast.Name) and node.id not in names and not _is_called(node, tree):
            names.append(node.id)
    if not names:
        raise ConfigError(f"cut {expression!r} uses no branch")
    return Cut(expression=expression, names=tuple(names), tree=tree)


_ALLOWED = (
    ast.BinOp,
    ast.BoolOp,
    ast.UnaryOp,
    ast.Compare,
    ast.Call,
    ast.Name,
    ast.Constant,
    ast.Load,
    ast.operator,
    ast.boolop,
    ast.unaryop,
    ast.cmpop,
)


def _check_node(node: ast.AST, expression: str) -> None:
    unsupported_operator = (
        isinstance(node, ast.operator)
        and type(node) not in _BINARY
        or isinstance(node, ast.cmpop)
        and type(node) not in _COMPARE
    )
    if not isinstance(node, _ALLOWED) or unsupported_operator:
        raise ConfigError(
            f"cut {expression!r}: {type(node).__name__} is not allowed "
            "(use branch names, numbers, arithmetic, comparisons, and/or/not, functions)"
        )
    if isinstance(node, ast.Constant) and not isinstance(node.value, int | float | bool):
        raise ConfigError(f"cut {expression!r}: only numbers are allowed, not {node.value!r}")
    if isinstance(node, ast.Call):
        known = (*FUNCTIONS, *REDUCTIONS)
        if not isinstance(node.func, ast.Name) or node.func.id not in known:
            name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise ConfigError(
                f"cut {expression!r}: unknown function {name!r}; known: {', '.join(known)}"
            )
        if node.keywords or len(node.args) != (2 if node.func.id in ("arctan2", "hypot") else 1):
            raise ConfigError(f"cut {expression!r}: wrong arguments to {node.func.id}()")


def _is_called(name: ast.Name, tree: ast.Expression) -> bool:
    return any(isinstance(node, ast.Call) and node.func is name for node in ast.walk(tree))


class _Evaluator(ast.NodeVisitor):
    """Evaluate a checked expression tree on arrays (numpy or awkward)."""

    def __init__(self, arrays: Mapping[str, Any]) -> None:
        self.arrays = arrays

    def visit_Constant(self, node: ast.Constant) -> Any:
        return node.value

    def visit_Name(self, node: ast.Name) -> Any:
        return self.arrays[node.id]

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        return _BINARY[type(node.op)](self.visit(node.left), self.visit(node.right))

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        operand = self.visit(node.operand)
        if isinstance(node.op, ast.Not | ast.Invert):
            return ~np.asarray(operand) if isinstance(operand, bool) else ~operand
        return -operand if isinstance(node.op, ast.USub) else operand

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        combine = operator.and_ if isinstance(node.op, ast.And) else operator.or_
        values = [self.visit(value) for value in node.values]
        result = values[0]
        for value in values[1:]:
            result = combine(result, value)
        return result

    def visit_Compare(self, node: ast.Compare) -> Any:
        left = self.visit(node.left)
        result = None
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.visit(right_node)
            step = _COMPARE[type(op)](left, right)
            result = step if result is None else result & step
            left = right
        return result

    def visit_Call(self, node: ast.Call) -> Any:
        name = node.func.id  # type: ignore[attr-defined]  # checked in _check_node
        args = [self.visit(arg) for arg in node.args]
        if name in FUNCTIONS:
            return FUNCTIONS[name](*args)
        return _reduce(name, args[0])


def _reduce(name: str, values: Any) -> Any:
    """Reduce each event's objects (axis 1): any/all/sum/count/min/max."""
    import awkward as ak

    if name == "count":
        return ak.num(values, axis=1)
    if name in ("min", "max"):
        reduced = getattr(ak, name)(values, axis=1)
        return ak.fill_none(reduced, np.nan)
    return getattr(ak, name)(values, axis=1)
