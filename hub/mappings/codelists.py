"""Code lists as data: each maps a registry code to its canonical code and attributes."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

from hub.errors import ConfigurationError

CODELIST_DIR = Path(__file__).parent / "codelists"


class Code(BaseModel):
    """One entry of a code list; extra attributes (``justified``) are kept."""

    model_config = {"extra": "allow"}

    label: str

    def attribute(self, name: str) -> Any:
        """An extra attribute of the entry, e.g. ``justified`` of a refusal reason."""
        extra = self.model_extra or {}
        if name not in extra:
            raise KeyError(name)
        return extra[name]


class CodeList(BaseModel):
    """A closed vocabulary."""

    name: str
    description: str = ""
    codes: dict[str, Code] = Field(min_length=1)

    def has(self, code: str) -> bool:
        """Whether ``code`` belongs to the list."""
        return code in self.codes


@cache
def load_codelists(directory: Path = CODELIST_DIR) -> dict[str, CodeList]:
    """Every code list of the directory, by name; a malformed file fails at start-up."""
    lists: dict[str, CodeList] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
            if "codes" in document:
                entries = {document["name"]: document}
            else:  # a file of several small lists keyed by name
                entries = {name: {"name": name, **body} for name, body in document.items()}
            for name, body in entries.items():
                lists[name] = CodeList.model_validate(body)
        except (yaml.YAMLError, ValueError, TypeError, KeyError) as exc:
            raise ConfigurationError(
                f"code list file {path.name} is malformed: {exc}",
                hint="fix the YAML; every entry needs a label",
            ) from exc
    return lists
