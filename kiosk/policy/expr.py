"""Rule expressions: a tiny language for pack files, evaluated in three-valued logic.

Grammar (pack.toml `test = "..."`):
    expr  := 'not' expr | 'all(' expr, ... ')' | 'any(' expr, ... ')'
           | 'true' | 'false' | FACT | PREDICATE [ '(' arg, ... ')' ]
    arg   := NAME '=' value | value          value := NAME | INT

Evaluation returns (value, missing): value is True/False/None (unknown), and when it is
None, `missing` holds the absent facts of the still-open leaves (the residual formula
after Kleene simplification, POLICY.md §5).  When decided, `missing` is empty.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

EMPTY: frozenset[str] = frozenset()
Result = tuple["bool | None", frozenset[str]]


class Node:
    """Base node.  `facts` lists every fact the node may read (for docs and benches)."""

    __slots__ = ("text", "facts")

    def ev(self, ctx: Any) -> Result:  # pragma: no cover - abstract
        raise NotImplementedError


class Const(Node):
    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.text, self.facts, self.value = ("true" if value else "false"), EMPTY, value

    def ev(self, ctx: Any) -> Result:
        return self.value, EMPTY


class Fact(Node):
    """A boolean fact read as it is."""

    __slots__ = ("name", "missing")

    def __init__(self, name: str) -> None:
        self.text, self.name = name, name
        self.facts = self.missing = frozenset({name})

    def ev(self, ctx: Any) -> Result:
        value = ctx.facts.get(self.name)
        return (value, EMPTY) if value is not None else (None, self.missing)


class Not(Node):
    __slots__ = ("child",)

    def __init__(self, child: Node) -> None:
        self.text, self.child, self.facts = f"not {child.text}", child, child.facts

    def ev(self, ctx: Any) -> Result:
        value, missing = self.child.ev(ctx)
        return (None, missing) if value is None else (not value, EMPTY)


class All(Node):
    __slots__ = ("children",)

    def __init__(self, children: list[Node]) -> None:
        self.children = tuple(children)
        self.text = "all(" + ", ".join(c.text for c in children) + ")"
        self.facts = frozenset().union(*(c.facts for c in children))

    def ev(self, ctx: Any) -> Result:
        return kleene_all([c.ev(ctx) for c in self.children])


class AnyOf(Node):
    __slots__ = ("children",)

    def __init__(self, children: list[Node]) -> None:
        self.children = tuple(children)
        self.text = "any(" + ", ".join(c.text for c in children) + ")"
        self.facts = frozenset().union(*(c.facts for c in children))

    def ev(self, ctx: Any) -> Result:
        return kleene_any([c.ev(ctx) for c in self.children])


class Leaf(Node):
    """A predicate over several facts; computed once per evaluation (memo on the context)."""

    __slots__ = ("fn",)

    def __init__(self, text: str, facts: frozenset[str], fn: Callable[[Any], Result]) -> None:
        self.text, self.facts, self.fn = text, facts, fn

    def ev(self, ctx: Any) -> Result:
        memo = ctx.memo
        hit = memo.get(self)
        if hit is None:
            hit = memo[self] = self.fn(ctx)
        return hit


def kleene_all(results: list[Result]) -> Result:
    open_missing: list[frozenset[str]] = []
    for value, missing in results:
        if value is False:
            return False, EMPTY
        if value is None:
            open_missing.append(missing)
    if not open_missing:
        return True, EMPTY
    return None, frozenset().union(*open_missing)


def kleene_any(results: list[Result]) -> Result:
    open_missing: list[frozenset[str]] = []
    for value, missing in results:
        if value is True:
            return True, EMPTY
        if value is None:
            open_missing.append(missing)
    if not open_missing:
        return False, EMPTY
    return None, frozenset().union(*open_missing)


# --- parser -----------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(-?\d+)|([(),=]))")

# factory(positional args, keyword args) -> Node
PredicateFactory = Callable[[list[Any], dict[str, Any]], Node]


class ExprError(ValueError):
    pass


class Parser:
    """Parses rule texts; identical sub-expressions become one node so memos are shared."""

    def __init__(self, bool_facts: frozenset[str], predicates: Mapping[str, PredicateFactory]) -> None:
        self.bool_facts = bool_facts
        self.predicates = predicates
        self.interned: dict[str, Node] = {}

    def parse(self, text: str) -> Node:
        self._tokens = self._tokenize(text)
        self._pos = 0
        node = self._expr()
        if self._pos != len(self._tokens):
            raise ExprError(f"trailing input in rule {text!r}")
        return node

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, Any]]:
        tokens, pos = [], 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m:
                raise ExprError(f"bad character at {pos} in rule {text!r}")
            name, num, punct = m.groups()
            tokens.append(("name", name) if name else ("num", int(num)) if num else ("p", punct))
            pos = m.end()
        return tokens

    def _peek(self) -> tuple[str, Any] | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _take(self, kind: str, value: Any = None) -> Any:
        tok = self._peek()
        if tok is None or tok[0] != kind or (value is not None and tok[1] != value):
            raise ExprError(f"expected {value or kind}, got {tok}")
        self._pos += 1
        return tok[1]

    def _intern(self, node: Node) -> Node:
        return self.interned.setdefault(node.text, node)

    def _expr(self) -> Node:
        name = self._take("name")
        if name == "not":
            return self._intern(Not(self._expr()))
        if name in ("true", "false"):
            return self._intern(Const(name == "true"))
        if name in ("all", "any"):
            self._take("p", "(")
            children = [self._expr()]
            while self._peek() == ("p", ","):
                self._pos += 1
                children.append(self._expr())
            self._take("p", ")")
            return self._intern(All(children) if name == "all" else AnyOf(children))
        if name in self.bool_facts:
            return self._intern(Fact(name))
        factory = self.predicates.get(name)
        if factory is None:
            raise ExprError(f"unknown fact or predicate {name!r}")
        args, kwargs = self._args()
        node = factory(args, kwargs)
        return self._intern(node)

    def _args(self) -> tuple[list[Any], dict[str, Any]]:
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        if self._peek() != ("p", "("):
            return args, kwargs
        self._pos += 1
        while self._peek() != ("p", ")"):
            kind, value = self._peek() or ("eof", None)
            if kind not in ("name", "num"):
                raise ExprError(f"bad argument {value!r}")
            self._pos += 1
            if self._peek() == ("p", "="):
                self._pos += 1
                kwargs[value] = self._take(self._peek()[0] if self._peek() else "num")
            else:
                args.append(value)
            if self._peek() == ("p", ","):
                self._pos += 1
        self._take("p", ")")
        return args, kwargs
