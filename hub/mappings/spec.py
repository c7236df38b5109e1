"""The schema of a mapping file, validated when loaded.

A mapping file says, for each change-feed kind of one registry, which source
fields become which canonical person attributes and which rows of which tables,
through named transforms only. Paths are dot-separated; inside ``for_each`` a
path starting with ``^`` reads the enclosing record.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator


class Codelist(BaseModel):
    """A transform looking the value up in a code list (optionally returning an attribute)."""

    model_config = {"extra": "forbid"}

    codelist: str
    attribute: str | None = None


class FieldSpec(BaseModel):
    """Where a canonical value comes from and how it is transformed."""

    model_config = {"extra": "forbid", "populate_by_name": True}

    source: str | None = Field(None, alias="from")
    transform: str | Codelist = "text"
    optional: bool = False
    default: Any = None
    """With ``optional``: the value of a missing source field (None when unset)."""
    const: Any = None

    @model_validator(mode="after")
    def _source_or_const(self) -> FieldSpec:
        if (self.source is None) == (self.const is None):
            raise ValueError("a field takes exactly one of `from` and `const`")
        return self


def _expand(value: Any) -> Any:
    """``"path"`` is short for ``{from: path}``."""
    return {"from": value} if isinstance(value, str) else value


class PersonSpec(BaseModel):
    """How a record names its person and what it says about them."""

    model_config = {"extra": "forbid"}

    personal_no: FieldSpec | None = None
    identifiers: dict[str, FieldSpec] = Field(default_factory=dict)
    attributes: dict[str, FieldSpec] = Field(default_factory=dict)

    @field_validator("personal_no", mode="before")
    @classmethod
    def _short_pn(cls, value: Any) -> Any:
        return _expand(value)

    @field_validator("identifiers", "attributes", mode="before")
    @classmethod
    def _short_fields(cls, value: Any) -> Any:
        return {k: _expand(v) for k, v in (value or {}).items()}


class Condition(BaseModel):
    """A row is produced only when the source field equals (one of) the value(s)."""

    model_config = {"extra": "forbid", "populate_by_name": True}

    source: str = Field(alias="from")
    equals: str | list[str]

    def holds(self, value: Any) -> bool:
        """Whether ``value`` satisfies the condition."""
        wanted = [self.equals] if isinstance(self.equals, str) else self.equals
        return value in wanted


class RowSpec(BaseModel):
    """One canonical row (or one per list item) a record produces."""

    model_config = {"extra": "forbid"}

    table: str
    conflict: list[str] = Field(min_length=1, description="the row's natural key columns")
    when: Condition | None = None
    for_each: str | None = None
    columns: dict[str, FieldSpec]

    @field_validator("columns", mode="before")
    @classmethod
    def _short_fields(cls, value: Any) -> Any:
        return {k: _expand(v) for k, v in (value or {}).items()}


class StreamSpec(BaseModel):
    """What one kind of change maps to; ``ignore`` says why a kind is deliberately skipped."""

    model_config = {"extra": "forbid"}

    description: str = ""
    key: str | None = None
    ignore: str | None = None
    person: PersonSpec | None = None
    rows: list[RowSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ignored_or_mapped(self) -> StreamSpec:
        if self.ignore is None and (self.key is None or not (self.rows or self.person)):
            raise ValueError("a mapped stream needs `key` and a person or at least one row")
        return self


class MappingSpec(BaseModel):
    """A registry's mapping file."""

    model_config = {"extra": "forbid"}

    registry: str
    version: int = 1
    description: str = ""
    streams: dict[str, StreamSpec] = Field(min_length=1)
