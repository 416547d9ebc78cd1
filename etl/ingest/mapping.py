"""Mapping files: how a source layout maps onto the canonical model (docs/mapping.md).

The built-in layouts in ``etl/layouts/*.yml`` are mapping files too. A mapping is validated
completely when it is loaded (names, types, formats, every expression compiled once), so a bad
mapping fails before any data is read.
"""

from __future__ import annotations

import codecs
import copy
import fnmatch
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from etl.errors import ConfigurationError
from etl.ingest import coerce
from etl.ingest.expr import ColumnRef, ExpressionError, compile_expression, valid_column_name

LINES = "order_lines"
CUSTOMERS = "customers"
PRODUCTS = "products"

# canonical target -> SQL type; * = a line without it is rejected
ORDER_LINE_FIELDS: dict[str, str] = {
    "order_id": "text",
    "line_no": "integer",
    "customer_id": "text",
    "order_ts": "timestamp",
    "product_id": "text",
    "quantity": "numeric",
    "unit_price": "numeric",
    "gross_amount": "numeric",
    "discount_amount": "numeric",
    "amount": "numeric",
    "cost_amount": "numeric",
    "channel": "text",
    "platform": "text",
    "market": "text",
    "country": "text",
    "region": "text",
    "store_id": "text",
}
ORDER_LINE_REQUIRED = ("order_id", "order_ts", "quantity", "unit_price")  # or amount for price
CUSTOMER_FIELDS: dict[str, str] = {
    "customer_id": "text",
    "gender": "text",
    "birth_year": "integer",
    "age": "integer",
    "income": "numeric",
    "family_status": "text",
    "n_dependants": "integer",
    "country": "text",
    "state": "text",
    "region": "text",
    "city": "text",
    "signup_date": "date",
}
PRODUCT_FIELDS: dict[str, str] = {
    "product_id": "text",
    "product_name": "text",
    "category_l1": "text",
    "category_l2": "text",
    "category_l3": "text",
    "list_price": "numeric",
    "unit_cost": "numeric",
}
TARGET_FIELDS = {LINES: ORDER_LINE_FIELDS, CUSTOMERS: CUSTOMER_FIELDS, PRODUCTS: PRODUCT_FIELDS}
TARGET_KEYS = {LINES: "order_id", CUSTOMERS: "customer_id", PRODUCTS: "product_id"}
WAREHOUSE_LOOKUPS = {
    "warehouse.dim_product": PRODUCT_FIELDS,
    "warehouse.dim_customer": CUSTOMER_FIELDS,
}
DEFAULT_FILES = ("*.csv", "*.csv.gz", "*.tsv", "*.tsv.gz", "*.txt", "*.txt.gz", "*.parquet")
DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".gz")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
_TOP_KEYS = {
    "version",
    "name",
    "description",
    "extends",
    "format",
    "sources",
    LINES,
    CUSTOMERS,
    PRODUCTS,
    "params",
    "max_rejected_fraction",
}


@dataclass(frozen=True)
class ReadFormat:
    delimiter: str = ","
    encoding: str = "utf-8"
    quote: str = '"'
    header: bool = True
    newlines_in_values: bool = False


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    names: tuple[str, ...]
    type: str = "text"
    formats: tuple[coerce.DateFormat, ...] = ()
    required: bool = False
    optional: bool = False
    decimal: str = "."  # "," for 1.234,50


@dataclass(frozen=True)
class SourceSpec:
    name: str
    files: tuple[str, ...]
    columns: dict[str, ColumnSpec]
    format: ReadFormat
    required: bool = True
    model: str | None = None  # derived source: sql/staging/<model>.sql over ``input``
    input: str | None = None

    @property
    def derived(self) -> bool:
        return self.model is not None

    def matches(self, filename: str) -> bool:
        return any(fnmatch.fnmatch(filename.lower(), p.lower()) for p in self.files)


@dataclass(frozen=True)
class Join:
    source: str
    on: tuple[tuple[str, str], ...]  # (expression over earlier relations, column of source)


@dataclass(frozen=True)
class TargetSpec:
    kind: str  # order_lines | customers | products
    source: str
    joins: tuple[Join, ...]
    columns: dict[str, str]
    attributes: dict[str, str] = field(default_factory=dict)
    returns: dict[str, str] = field(default_factory=dict)
    # order_lines only: keep lines priced 0 as sales (free items, promotions) instead of
    # rejecting them; negative prices are still rejected.
    zero_price_sales: bool = False


@dataclass(frozen=True)
class Mapping:
    name: str
    description: str
    sources: dict[str, SourceSpec]
    targets: dict[str, TargetSpec]
    params: dict[str, Any]
    max_rejected_fraction: float
    document: dict[str, Any]  # the resolved YAML, stored in the ledger

    @property
    def lines(self) -> TargetSpec | None:
        return self.targets.get(LINES)

    def fingerprint(self) -> str:
        blob = json.dumps(self.document, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()

    def file_sources(self) -> list[SourceSpec]:
        return [s for s in self.sources.values() if not s.derived]


# --------------------------------------------------------------------------- loading


def layouts_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "layouts"


def available_layouts() -> dict[str, str]:
    """Built-in layout name -> one-line description."""
    out = {}
    for path in sorted(layouts_dir().glob("*.yml")):
        doc = _read_yaml(path)
        out[path.stem] = str(doc.get("description", "")).strip().split("\n")[0]
    return out


def load_layout(name: str) -> Mapping:
    path = layouts_dir() / f"{name}.yml"
    if not _NAME.match(name or "") or not path.is_file():
        known = ", ".join(available_layouts())
        raise ConfigurationError(f"unknown layout {name!r}: choose one of {known}")
    return from_document(_resolve(_read_yaml(path), seen={name}), origin=f"layout {name}")


def load_mapping_file(path: str | Path) -> Mapping:
    p = Path(path)
    if not p.is_file():
        raise ConfigurationError(f"mapping file {p} does not exist")
    doc = _read_yaml(p)
    return from_document(_resolve(doc, seen=set()), origin=f"mapping {p}")


def resolve(layout: str | None, mapping: str | Path | Mapping | None) -> Mapping:
    """Exactly one of a built-in layout name or a mapping (file path or loaded Mapping)."""
    if (layout is None) == (mapping is None):
        raise ConfigurationError("give exactly one of a layout name or a mapping file")
    if layout is not None:
        return load_layout(layout)
    if isinstance(mapping, Mapping):
        return mapping
    return load_mapping_file(mapping)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ConfigurationError(f"{path}: a mapping file is a YAML mapping (key: value)")
    return _on_keys(doc)


def _on_keys(node: Any) -> Any:
    """YAML 1.1 reads the key ``on:`` (used by joins) as the boolean true; put the word back."""
    if isinstance(node, dict):
        return {("on" if k is True else k): _on_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_on_keys(v) for v in node]
    return node


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base.get(k), v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(over)


def _resolve(doc: dict[str, Any], seen: set[str]) -> dict[str, Any]:
    """Apply ``extends: <layout>``: the named layout with this document merged on top."""
    parent = doc.get("extends")
    if not parent:
        return doc
    if parent in seen:
        raise ConfigurationError(f"mapping extends itself: {' -> '.join([*seen, parent])}")
    path = layouts_dir() / f"{parent}.yml"
    if not _NAME.match(str(parent)) or not path.is_file():
        raise ConfigurationError(f"extends: unknown layout {parent!r}")
    base = _resolve(_read_yaml(path), seen | {parent})
    child = {k: v for k, v in doc.items() if k != "extends"}
    merged = _merge(base, child)
    merged.pop("extends", None)
    return merged


# --------------------------------------------------------------------------- validation


def from_document(doc: dict[str, Any], *, origin: str = "mapping") -> Mapping:
    """Validate a (resolved) mapping document; raises ConfigurationError naming the key."""
    err = _Errors(origin)
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        err.add(f"unknown top-level keys {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}")
    name = str(doc.get("name") or "")
    if not _NAME.match(name):
        err.add("name: lower-case letters, digits and _ (e.g. my_shop)")
    fmt = _read_format(doc.get("format") or {}, ReadFormat(), err, "format")
    sources: dict[str, SourceSpec] = {}
    raw_sources = doc.get("sources")
    if not isinstance(raw_sources, dict) or not raw_sources:
        err.add("sources: at least one source (a kind of input file) is needed")
        raw_sources = {}
    for sname, sdoc in raw_sources.items():
        src = _read_source(str(sname), sdoc, fmt, err)
        if src is not None:
            sources[src.name] = src
    for src in sources.values():
        if src.derived and src.input not in sources:
            err.add(f"sources.{src.name}.input: no source named {src.input!r}")
    targets: dict[str, TargetSpec] = {}
    for kind in (LINES, CUSTOMERS, PRODUCTS):
        if doc.get(kind) is not None:
            t = _read_target(kind, doc[kind], sources, err)
            if t is not None:
                targets[kind] = t
    if not targets:
        err.add(f"at least one of {LINES}, {CUSTOMERS}, {PRODUCTS} must be mapped")
    params = doc.get("params") or {}
    if not isinstance(params, dict):
        err.add("params: a mapping of name: value")
        params = {}
    frac = doc.get("max_rejected_fraction", 0.5)
    if not isinstance(frac, int | float) or not 0 <= frac <= 1:
        err.add("max_rejected_fraction: a number between 0 and 1")
        frac = 0.5
    mapping = Mapping(
        name=name,
        description=str(doc.get("description") or "").strip(),
        sources=sources,
        targets=targets,
        params=params,
        max_rejected_fraction=float(frac),
        document=doc,
    )
    if sources and targets:  # every problem at once, the expressions' too
        try:
            _check_expressions(mapping, err)
        except (KeyError, ConfigurationError) as exc:  # a name an earlier error left undefined
            if not err.items:
                raise
            del exc
    err.raise_if_any()
    return mapping


class _Errors:
    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.items: list[str] = []

    def add(self, msg: str) -> None:
        self.items.append(msg)

    def raise_if_any(self) -> None:
        if self.items:
            lines = "\n".join(f"- {m}" for m in self.items)
            raise ConfigurationError(f"{self.origin} is invalid:\n{lines}")


def _read_format(d: Any, base: ReadFormat, err: _Errors, where: str) -> ReadFormat:
    if not isinstance(d, dict):
        err.add(f"{where}: a mapping")
        return base
    allowed = {"delimiter", "encoding", "quote", "header", "newlines_in_values"}
    for k in set(d) - allowed:
        err.add(f"{where}.{k}: unknown; allowed: {sorted(allowed)}")
    delim = d.get("delimiter", base.delimiter)
    if delim in ("\\t", "tab"):
        delim = "\t"
    if not isinstance(delim, str) or len(delim) != 1:
        err.add(f"{where}.delimiter: one character (use \\t for tab)")
        delim = base.delimiter
    enc = str(d.get("encoding", base.encoding))
    problem = _encoding_problem(enc)
    if problem:
        err.add(f"{where}.encoding: {problem}")
        enc = base.encoding
    quote = d.get("quote", base.quote)
    if not isinstance(quote, str) or len(quote) != 1:
        err.add(f"{where}.quote: one character")
        quote = base.quote
    return ReadFormat(
        delimiter=delim,
        encoding=enc,
        quote=quote,
        header=bool(d.get("header", base.header)),
        newlines_in_values=bool(d.get("newlines_in_values", base.newlines_in_values)),
    )


def _encoding_problem(enc: str) -> str:
    """Why a file encoding cannot be used to read CSV text ('' when it can)."""
    try:
        info = codecs.lookup(enc)
    except LookupError:
        return f"unknown encoding {enc!r}"
    if not getattr(info, "_is_text_encoding", True):
        return f"{enc!r} is not a text encoding (e.g. utf-8, latin-1, cp1252)"
    try:
        sample = "InvoiceNo,Qty\r\nA1,2\n"
        if sample.encode(enc).decode(enc) != sample:
            raise ValueError
    except (UnicodeError, ValueError):
        return f"{enc!r} cannot encode plain CSV text (e.g. use utf-8, latin-1, cp1252)"
    return ""


def _read_source(name: str, d: Any, fmt: ReadFormat, err: _Errors) -> SourceSpec | None:
    where = f"sources.{name}"
    if not _NAME.match(name) or name in WAREHOUSE_LOOKUPS:
        err.add(f"{where}: source names are lower-case letters, digits and _")
        return None
    if not isinstance(d, dict):
        err.add(f"{where}: a mapping with files and columns")
        return None
    allowed = {"files", "columns", "format", "required", "model", "input"}
    for k in set(d) - allowed:
        err.add(f"{where}.{k}: unknown; allowed: {sorted(allowed)}")
    files = d.get("files", list(DEFAULT_FILES))
    if isinstance(files, str):
        files = [files]
    cols: dict[str, ColumnSpec] = {}
    raw_cols = d.get("columns") or {}
    if isinstance(raw_cols, list):
        raw_cols = {c: {} for c in raw_cols}
    if not isinstance(raw_cols, dict) or (not raw_cols and "model" not in d):
        err.add(f"{where}.columns: the columns to read (name: {{type: ...}})")
        raw_cols = {}
    for cname, cdoc in raw_cols.items():
        col = _read_column(str(cname), cdoc, err, f"{where}.columns.{cname}")
        if col is not None:
            cols[col.name] = col
    model = d.get("model")
    if model is not None and not _NAME.match(str(model)):
        err.add(f"{where}.model: the name of a file sql/staging/<model>.sql")
    return SourceSpec(
        name=name,
        files=tuple(str(f) for f in files),
        columns=cols,
        format=_read_format(d.get("format") or {}, fmt, err, f"{where}.format"),
        required=bool(d.get("required", True)),
        model=str(model) if model else None,
        input=str(d["input"]) if d.get("input") else None,
    )


def _read_column(name: str, d: Any, err: _Errors, where: str) -> ColumnSpec | None:
    if not valid_column_name(name):
        err.add(f"{where}: column names are 1-50 characters and do not start with _")
        return None
    if d is None:
        d = {}
    if isinstance(d, str):
        d = {"type": d}
    if not isinstance(d, dict):
        err.add(f"{where}: a type name or a mapping")
        return None
    allowed = {"names", "type", "formats", "format", "required", "optional", "decimal"}
    for k in set(d) - allowed:
        err.add(f"{where}.{k}: unknown; allowed: {sorted(allowed)}")
    names = d.get("names", [name])
    if isinstance(names, str):
        names = [names]
    type_ = str(d.get("type", "text"))
    if type_ not in coerce.TYPES:
        err.add(f"{where}.type: {type_!r} is not one of {', '.join(coerce.TYPES)}")
        type_ = "text"
    raw_formats = d.get(
        "formats", d.get("format", ["iso"] if type_ in ("date", "timestamp") else [])
    )
    if isinstance(raw_formats, str):
        raw_formats = [raw_formats]
    formats = []
    for f in raw_formats:
        try:
            formats.append(coerce.compile_format(str(f)))
        except ConfigurationError as exc:
            err.add(f"{where}.formats: {exc}")
    if formats and type_ not in ("date", "timestamp"):
        err.add(f"{where}.formats: only date and timestamp columns have formats")
    decimal = str(d.get("decimal", "."))
    if decimal not in (".", ","):
        err.add(f"{where}.decimal: '.' or ','")
    elif decimal == "," and type_ not in ("number", "integer"):
        err.add(f"{where}.decimal: only number and integer columns have a decimal separator")
    return ColumnSpec(
        name=name,
        decimal=decimal,
        names=tuple(str(n) for n in names),
        type=type_,
        formats=tuple(formats),
        required=bool(d.get("required", False)),
        optional=bool(d.get("optional", False)),
    )


def _read_target(kind: str, d: Any, sources: dict[str, SourceSpec], err: _Errors):
    where = kind
    if not isinstance(d, dict):
        err.add(f"{where}: a mapping with source and columns")
        return None
    allowed = {"source", "join", "columns", "attributes", "returns", "zero_price_sales"}
    for k in set(d) - allowed:
        err.add(f"{where}.{k}: unknown; allowed: {sorted(allowed)}")
    source = str(d.get("source") or "")
    if source not in sources:
        err.add(f"{where}.source: {source!r} is not one of the sources {sorted(sources)}")
        return None
    joins = []
    for i, j in enumerate(d.get("join") or []):
        jw = f"{where}.join[{i}]"
        if not isinstance(j, dict) or "source" not in j or not isinstance(j.get("on"), dict):
            err.add(f"{jw}: {{source: NAME, on: {{expression: column}}}}")
            continue
        js = str(j["source"])
        if js not in sources and js not in WAREHOUSE_LOOKUPS:
            err.add(f"{jw}.source: {js!r} is not a source or one of {sorted(WAREHOUSE_LOOKUPS)}")
            continue
        joins.append(Join(js, tuple((str(k), str(v)) for k, v in j["on"].items())))
    columns = d.get("columns") or {}
    if not isinstance(columns, dict):
        err.add(f"{where}.columns: target: expression")
        columns = {}
    fields = TARGET_FIELDS[kind]
    for k in set(columns) - set(fields):
        err.add(f"{where}.columns.{k}: not a canonical field; choose from {sorted(fields)}")
    key = TARGET_KEYS[kind]
    if key not in columns:
        err.add(f"{where}.columns.{key}: required")
    if kind == LINES:
        for k in ORDER_LINE_REQUIRED:
            if k == "unit_price" and "amount" in columns:
                continue  # the line amount is given: the unit price is amount / quantity
            if k not in columns:
                err.add(f"{where}.columns.{k}: required for order lines")
    attributes = d.get("attributes") or {}
    returns = d.get("returns") or {}
    if kind != LINES and returns:
        err.add(f"{where}.returns: only order_lines have returns")
    if kind == LINES and not isinstance(returns, dict):
        err.add(f"{where}.returns: rule_name: condition")
        returns = {}
    for k in returns:
        if not _NAME.match(str(k)):
            err.add(f"{where}.returns.{k}: rule names are lower-case letters, digits and _")
    zero_price = d.get("zero_price_sales", False)
    if kind != LINES and "zero_price_sales" in d:
        err.add(f"{where}.zero_price_sales: only order_lines have prices")
    if not isinstance(zero_price, bool):
        err.add(f"{where}.zero_price_sales: true or false")
        zero_price = False
    return TargetSpec(
        kind=kind,
        source=source,
        joins=tuple(joins),
        columns={k: _expr_text(v) for k, v in columns.items() if k in fields},
        attributes={str(k): _expr_text(v) for k, v in dict(attributes).items()},
        returns={str(k): _expr_text(v) for k, v in returns.items()},
        zero_price_sales=zero_price,
    )


def _expr_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    return str(v)


# --------------------------------------------------------------------------- name resolution


def relation_columns(mapping: Mapping, name: str) -> list[str]:
    """Columns a source (or warehouse lookup) offers to expressions."""
    if name in WAREHOUSE_LOOKUPS:
        return list(WAREHOUSE_LOOKUPS[name])
    src = mapping.sources[name]
    if src.derived:
        return list(src.columns) or list(mapping.sources[src.input].columns)
    return list(src.columns)


def alias_for(name: str) -> str:
    return name.replace(".", "__")


def effective_joins(mapping: Mapping, target: TargetSpec) -> tuple[Join, ...]:
    """A dimension read from the order-line source sees the order lines' joins."""
    lines = mapping.lines
    if target.kind != LINES and lines is not None and target.source == lines.source:
        return lines.joins
    return target.joins


def make_resolver(mapping: Mapping, target: TargetSpec, upto: int | None = None):
    """Resolve names in a target's expressions: the base source first, then joins in order."""
    joins = effective_joins(mapping, target)
    rels = [target.source] + [j.source for j in joins[:upto]]

    def resolve(qualifier: str | None, name: str) -> ColumnRef:
        if qualifier is not None:
            for r in rels:
                if qualifier in (r, r.split(".")[-1]):
                    if name not in relation_columns(mapping, r):
                        raise ExpressionError(f"source {r} has no column {name!r}")
                    return ColumnRef(alias_for(r), name)
            raise ExpressionError(f"{qualifier!r} is not the base or a joined source here")
        for r in rels:
            if name in relation_columns(mapping, r):
                return ColumnRef(alias_for(r), name)
        available = sorted({c for r in rels for c in relation_columns(mapping, r)})
        raise ExpressionError(f"unknown column {name!r}; available: {', '.join(available)}")

    return resolve


def _check_expressions(mapping: Mapping, err: _Errors) -> None:
    for kind, t in mapping.targets.items():
        for i, j in enumerate(t.joins):
            resolve = make_resolver(mapping, t, upto=i)
            for left, right in j.on:
                try:
                    compile_expression(left, resolve)
                except ExpressionError as exc:
                    err.add(f"{kind}.join[{i}].on: {exc}")
                if right not in relation_columns(mapping, j.source):
                    err.add(f"{kind}.join[{i}].on: {j.source} has no column {right!r}")
        resolve = make_resolver(mapping, t)
        for group, exprs in (
            ("columns", t.columns),
            ("attributes", t.attributes),
            ("returns", t.returns),
        ):
            for k, text in exprs.items():
                try:
                    compile_expression(text, resolve)
                except ExpressionError as exc:
                    err.add(f"{kind}.{group}.{k}: {exc}")
    lines = mapping.lines
    for kind in (CUSTOMERS, PRODUCTS):
        t = mapping.targets.get(kind)
        if t and lines and t.source == lines.source and t.joins:
            err.add(
                f"{kind}.join: a dimension taken from the order-line source uses the "
                f"order lines' joins; remove {kind}.join"
            )
