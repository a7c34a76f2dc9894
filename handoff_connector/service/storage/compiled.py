"""Statements compiled once per database, run on the driver itself.

SQLAlchemy's execution layer costs more per statement than SQLite or
PostgreSQL take to run it (cache keys, result adaptation and, on asyncio, the
greenlet hand-offs): 0.1-0.3 ms a statement, measured. The stores build their
statements with SQLAlchemy Core; here each is compiled once for the database's
dialect and the transactions (``database.SqliteTx``, ``pg.PgTx``) hand the SQL
and positional values to the driver.

* A statement object run again (the stores build their hot statements once,
  with ``sa.bindparam``) keeps its compiled form beside it (a weak map).
* Any other statement is found by SQLAlchemy's cache key, so one built per call
  with other values is compiled once too; it brings its own values.
* A statement with an ``IN (...)`` list is compiled once too, with the list
  left open; each call expands it to its own length (SQLAlchemy's own
  post-compile step, a string substitution, as its execution layer does).

Values go through the column types' bind processors (JSON is serialised as
SQLAlchemy does) and rows through their result processors.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Sequence, Tuple

from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

CACHE_SIZE = 1000


@dataclass
class Compiled:
    """One statement as the driver takes it."""

    sql: str
    compiled: SQLCompiler
    names: Sequence[str]  # the positional parameters, in order
    processors: Dict[str, Callable[[Any], Any]]
    columns: Optional[List[str]]  # the result's keys, when SQLAlchemy knows them
    readers: List[Tuple[int, Callable[[Any], Any]]]  # (column, result processor)

    def arguments(self, params: Optional[Dict[str, Any]], extracted: Optional[Any]) -> List[Any]:
        values = self.compiled.construct_params(params, extracted_parameters=extracted)
        processors = self.processors
        return [processors[name](values[name]) if name in processors else values[name] for name in self.names]

    def expanded(self, params: Optional[Dict[str, Any]], extracted: Optional[Any]) -> Tuple["Compiled", List[Any]]:
        """A statement with ``IN (...)`` lists: its SQL for these lists' lengths, and the values."""
        values = self.compiled.construct_params(params, extracted_parameters=extracted, _no_postcompile=True)
        state = self.compiled._process_parameters_for_postcompile(values)
        processors, expanded = state.processors, state.parameters
        arguments = [processors[name](expanded[name]) if name in processors else expanded[name]
                     for name in state.positiontup or ()]
        return replace(self, sql=state.statement), arguments

    def rows(self, records: Sequence[Any], description: Optional[Sequence[Any]] = None) -> List[Dict[str, Any]]:
        """Rows as dicts. The keys are SQLAlchemy's (its labels) when it knows the result's
        columns; else the driver's (a text statement): the cursor's description, or an
        asyncpg record's own keys."""
        if not records:
            return []
        width = len(records[0])
        if self.columns is not None and len(self.columns) == width:
            keys, readers = self.columns, self.readers
        elif description is not None:
            keys, readers = [column[0] for column in description], []
        else:
            keys, readers = list(records[0].keys()), []
        result = []
        for record in records:
            values = list(record)
            for index, reader in readers:
                values[index] = reader(values[index])
            result.append(dict(zip(keys, values, strict=True)))
        return result


def _build(statement: Any, dialect: Dialect, keys: FrozenSet[str], many: bool, readers: bool,
           **kw: Any) -> Compiled:
    compiled: SQLCompiler = statement.compile(dialect=dialect, column_keys=sorted(keys), for_executemany=many,
                                              **kw)
    processors: Dict[str, Any] = dict(compiled._bind_processors)  # type: ignore[arg-type]
    result_columns = getattr(compiled, "_result_columns", None) or []
    columns = [column[0] for column in result_columns] or None
    found = []
    for index, column in enumerate(result_columns if readers else ()):
        reader = column[3].dialect_impl(dialect).result_processor(dialect, None)
        if reader is not None:
            found.append((index, reader))
    return Compiled(compiled.string, compiled, list(compiled.positiontup or ()), processors, columns, found)


class Statements:
    """The compiled statements of one dialect. ``readers``: rows need the result
    processors (SQLite's JSON text); asyncpg's codecs give Python values already."""

    def __init__(self, dialect: Dialect, readers: bool = True) -> None:
        self.dialect = dialect
        self.readers = readers
        self._by_object: "weakref.WeakKeyDictionary[Any, Dict[Any, Tuple[Compiled, Any]]]" = (
            weakref.WeakKeyDictionary())
        self._by_key: "OrderedDict[Any, Any]" = OrderedDict()

    def get(self, statement: Any, keys: FrozenSet[str], many: bool) -> Tuple[Compiled, Optional[Any]]:
        """The compiled form and, when it was compiled for another statement of the
        same shape, this statement's own values."""
        variants = self._by_object.get(statement)
        if variants is not None and (keys, many) in variants:
            return variants[(keys, many)]
        cache_key = statement._generate_cache_key()
        lookup = (cache_key.key, keys, many) if cache_key is not None else None
        compiled = self._by_key.get(lookup) if lookup is not None else None
        if compiled is None and lookup is None:  # a statement SQLAlchemy cannot cache
            return self._expanded(statement, keys, many), None
        if compiled is None:
            # With its cache key, so that another statement of this shape can bring its values.
            compiled = _build(statement, self.dialect, keys, many, self.readers, cache_key=cache_key)
            if compiled.compiled.post_compile_params and many:
                return self._expanded(statement, keys, many), None  # lists in many rows: rare, not kept
            self._remember(lookup, compiled)
        found = (compiled, cache_key.bindparams if cache_key is not None else None)
        self._by_object.setdefault(statement, {})[(keys, many)] = found
        return found

    def prepare(self, statement: Any, params: Any) -> Tuple[Compiled, Any]:
        """The compiled statement and its positional values (a list of them for a list of rows)."""
        if isinstance(params, list):
            compiled, extracted = self.get(statement, frozenset(params[0]) if params else frozenset(), True)
            return compiled, [compiled.arguments(row, extracted) for row in params]
        compiled, extracted = self.get(statement, frozenset(params or ()), False)
        if compiled.compiled.post_compile_params:
            return compiled.expanded(params, extracted)
        return compiled, compiled.arguments(params, extracted)

    def _expanded(self, statement: Any, keys: FrozenSet[str], many: bool) -> Compiled:
        return _build(statement, self.dialect, keys, many, self.readers,
                      compile_kwargs={"render_postcompile": True})

    def _remember(self, lookup: Any, compiled: Any) -> None:
        self._by_key[lookup] = compiled
        if len(self._by_key) > CACHE_SIZE:
            self._by_key.popitem(last=False)
