"""Loading, validating and applying mapping files.

A mapping is checked completely when loaded — transforms exist, code lists and
their attributes exist, target tables and columns exist, every required column
is filled — so a broken mapping stops the hub at start-up, not mid-run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import Table
from sqlmodel import SQLModel

import hub.store.schema  # noqa: F401  (registers the tables a mapping may target)
from hub.errors import ConfigurationError, MappingError
from hub.mappings.codelists import load_codelists
from hub.mappings.spec import Codelist, FieldSpec, MappingSpec, RowSpec, StreamSpec
from hub.mappings.survivorship import source_ranks
from hub.mappings.transforms import NAMED_TRANSFORMS, TransformFailure, personal_no

MAPPING_DIR = Path(__file__).parent
AUTOMATIC_COLUMNS = frozenset({"id", "source_registry", "as_of", "recorded_at", "person_id"})


@dataclass(frozen=True, slots=True)
class PersonRef:
    """A reference to the person holding this personal number, resolved by the writer."""

    personal_no: str


@dataclass(slots=True)
class MappedRow:
    """A canonical row ready to upsert on its natural key."""

    table: str
    conflict: tuple[str, ...]
    values: dict[str, Any]


@dataclass(slots=True)
class MappedPerson:
    """What a record says about its person."""

    personal_no: str | None
    identifiers: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class MappedRecord:
    """One source record in canonical terms."""

    registry: str
    stream: str
    key: str
    person: MappedPerson | None
    rows: list[MappedRow]


class _Failure(Exception):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


class RegistryMapper:
    """Applies one registry's mapping file to records of its change feed."""

    def __init__(self, spec: MappingSpec) -> None:
        self.spec = spec
        self.registry = spec.registry
        self._codelists = load_codelists()
        self._tables: dict[str, Table] = dict(SQLModel.metadata.tables)
        for stream, stream_spec in spec.streams.items():
            self._check_stream(stream, stream_spec)

    def map(self, stream: str, record: dict[str, Any]) -> MappedRecord | None:
        """The canonical form of ``record``, None for a deliberately ignored stream.

        Raises :class:`MappingError` naming the registry, stream and field path.
        """
        spec = self.spec.streams.get(stream)
        if spec is None:
            raise MappingError(
                "unknown kind of change",
                registry=self.registry,
                stream=stream,
                field_path="kind",
            )
        if spec.ignore is not None:
            return None
        try:
            return self._map(stream, spec, record)
        except _Failure as failure:
            raise MappingError(
                failure.reason, registry=self.registry, stream=stream, field_path=failure.path
            ) from None

    def _map(self, stream: str, spec: StreamSpec, record: dict[str, Any]) -> MappedRecord:
        assert spec.key is not None
        key = str(self._value(FieldSpec.model_validate({"from": spec.key}), record, None))
        person = self._person(spec, record)
        rows: list[MappedRow] = []
        for row_spec in spec.rows:
            rows.extend(self._rows(row_spec, record, person))
        return MappedRecord(self.registry, stream, key, person, rows)

    def _person(self, spec: StreamSpec, record: dict[str, Any]) -> MappedPerson | None:
        if spec.person is None:
            return None
        pn_spec = spec.person.personal_no
        pn = self._value(pn_spec, record, None, transform="personal_no") if pn_spec else None
        identifiers = {
            scheme: str(value)
            for scheme, fs in spec.person.identifiers.items()
            if (value := self._value(fs, record, None)) is not None
        }
        attributes = {
            name: self._value(fs, record, None) for name, fs in spec.person.attributes.items()
        }
        return MappedPerson(pn, identifiers, attributes)

    def _rows(
        self, spec: RowSpec, record: dict[str, Any], person: MappedPerson | None
    ) -> list[MappedRow]:
        if spec.when is not None and not spec.when.holds(_get(record, spec.when.source)):
            return []
        items: list[dict[str, Any]] = [record]
        parent: dict[str, Any] | None = None
        if spec.for_each is not None:
            items = _get(record, spec.for_each) or []
            if isinstance(items, dict):
                items = [items]
            parent = record
        rows = []
        for item in items:
            values = {column: self._value(fs, item, parent) for column, fs in spec.columns.items()}
            if "person_id" in self._tables[spec.table].c and "person_id" not in values:
                pn = person.personal_no if person is not None else None
                values["person_id"] = PersonRef(pn) if pn is not None else None
            rows.append(MappedRow(spec.table, tuple(spec.conflict), values))
        return rows

    def _value(
        self,
        spec: FieldSpec,
        record: dict[str, Any],
        parent: dict[str, Any] | None,
        *,
        transform: str | Codelist | None = None,
    ) -> Any:
        if spec.source is None:
            return spec.const
        path = spec.source
        raw = _get(parent or {}, path[1:]) if path.startswith("^") else _get(record, path)
        if raw is None or raw == "":
            if spec.optional:
                return spec.default
            raise _Failure(path, "required field is missing")
        try:
            return self._transform(transform or spec.transform, raw)
        except TransformFailure as exc:
            raise _Failure(path, str(exc)) from None

    def _transform(self, transform: str | Codelist, raw: Any) -> Any:
        if isinstance(transform, Codelist):
            codes = self._codelists[transform.codelist]
            code = str(raw).strip()
            if not codes.has(code):
                raise TransformFailure(f"code not in code list {transform.codelist}")
            if transform.attribute is not None:
                return codes.codes[code].attribute(transform.attribute)
            return code
        if transform == "person":
            return PersonRef(personal_no(raw))
        return NAMED_TRANSFORMS[transform](raw)

    # -- validation when loaded ------------------------------------------------------------

    def _check_stream(self, stream: str, spec: StreamSpec) -> None:
        where = f"mapping {self.registry}.{stream}"
        if spec.person is not None:
            known = source_ranks()
            for attribute in spec.person.attributes:
                if attribute not in known:
                    raise ConfigurationError(
                        f"{where}: attribute {attribute!r} has no survivorship rule",
                        hint="add it to hub/mappings/survivorship.yaml",
                    )
            for fs in (*spec.person.identifiers.values(), *spec.person.attributes.values()):
                self._check_transform(where, fs.transform)
        for row in spec.rows:
            self._check_row(where, row)

    def _check_row(self, where: str, row: RowSpec) -> None:
        table = self._tables.get(row.table)
        if table is None:
            raise ConfigurationError(f"{where}: unknown table {row.table!r}")
        unknown = set(row.columns) - set(table.c.keys())
        if unknown:
            raise ConfigurationError(f"{where}: {row.table} has no column {sorted(unknown)}")
        missing = {
            c.name
            for c in table.c
            if not c.nullable and c.default is None and c.name not in AUTOMATIC_COLUMNS
        } - set(row.columns)
        if missing:
            raise ConfigurationError(
                f"{where}: required columns of {row.table} unmapped: {sorted(missing)}"
            )
        if not set(row.conflict) <= set(row.columns) | {"source_registry", "person_id"}:
            raise ConfigurationError(f"{where}: conflict columns must be mapped columns")
        for fs in row.columns.values():
            self._check_transform(where, fs.transform)

    def _check_transform(self, where: str, transform: str | Codelist) -> None:
        if isinstance(transform, Codelist):
            codes = self._codelists.get(transform.codelist)
            if codes is None:
                raise ConfigurationError(f"{where}: unknown code list {transform.codelist!r}")
            if transform.attribute is not None:
                for code, entry in codes.codes.items():
                    try:
                        entry.attribute(transform.attribute)
                    except KeyError:
                        raise ConfigurationError(
                            f"{where}: code {code} of {transform.codelist} lacks "
                            f"attribute {transform.attribute!r}"
                        ) from None
        elif transform != "person" and transform not in NAMED_TRANSFORMS:
            raise ConfigurationError(
                f"{where}: unknown transform {transform!r}",
                hint=f"use one of {', '.join(sorted(NAMED_TRANSFORMS))}, person or a codelist",
            )


def _get(record: dict[str, Any], path: str) -> Any:
    if "." not in path:
        return record.get(path)
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def load_mapping(path: Path) -> RegistryMapper:
    """Load and validate one mapping file."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec = MappingSpec.model_validate(document)
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigurationError(
            f"mapping file {path.name} is invalid: {exc}", hint="fix the file; see hub/mappings"
        ) from exc
    return RegistryMapper(spec)


@cache
def mapper_for(registry: str) -> RegistryMapper:
    """The validated mapper of a registry (``hub/mappings/<registry>.yaml``)."""
    return load_mapping(MAPPING_DIR / f"{registry}.yaml")
