"""Country policy profiles: one YAML file per country in ``profiles/``, validated when loaded."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hub.errors import ConfigurationError
from hub.mappings.codelists import CodeList, load_codelists

PROFILE_DIR = Path(__file__).parent / "profiles"
REASON_CODE_LIST = "refusal_reasons"

DecisionMode = Literal["csw", "automatic"]
"""Who decides a suspension: the social work centre (``csw``), or the rule itself at once."""

ReasonTest = Literal["every_refusal", "last_refusal"]
"""Whose reason decides: every counted refusal must be unjustified, or only the one that
reaches the count (earlier refusals count whatever their reason)."""

UNCONFIRMABLE = frozenset(
    {
        "max_unjustified_refusals",
        "window_days",
        "suspension_months",
        "suspension_months_bounds",
        "reason_test",
        "certificate_action",
        "eligible_categories",
    }
)
"""The numbers and choices a profile may mark as stated by no source yet."""

CertificateAction = Literal["revoke", "refuse"]
"""What happens to the unemployment certificate once a suspension starts.

``revoke``: the person's valid certificate is revoked. ``refuse``: no new certificate is
issued while the suspension lasts; one already valid stays valid.
"""


class _ProfileFields(BaseModel):
    """What a profile file and a resolved profile share."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    # Lengths follow the Suspension table (policy_profile 8, rule 64).
    code: str = Field(pattern=r"^[A-Z]{2,8}$", description="XK, MK, ...")
    country: str = Field(min_length=1)
    legal_basis: str = Field(min_length=1, description="the law a decision cites")
    legal_basis_confirmed: bool = Field(description="whether the ministry confirmed the citation")
    rule: str = Field(pattern=r"^[A-Z0-9-]{1,64}$", description="recorded by every decision")
    version: str = Field(pattern=r"^[A-Za-z0-9._-]{1,32}$", description="recorded with each")
    decision: DecisionMode = Field(default="csw", description="who confirms a proposal")
    eligible_categories: tuple[str, ...] = Field(
        default=("II",), min_length=1, description="benefit categories the scheme targets"
    )
    max_unjustified_refusals: int = Field(ge=1, description="the Nth such refusal suspends")
    window_days: int = Field(ge=1, description="the N refusals fall inside this many days")
    reason_test: ReasonTest = "every_refusal"
    suspension_months: int = Field(ge=1, description="the proposed length")
    suspension_months_bounds: tuple[int, int] = Field(
        description="the shortest and longest a CSW may decide; equal when the law sets it"
    )
    certificate_action: CertificateAction
    unconfirmed: tuple[str, ...] = Field(
        default=(), description="fields no source states yet: printed in every decision"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        low, high = self.suspension_months_bounds
        if not 1 <= low <= self.suspension_months <= high:
            raise ValueError("suspension_months_bounds must hold suspension_months (min <= max)")
        unknown = sorted(set(self.unconfirmed) - UNCONFIRMABLE)
        if unknown:
            raise ValueError(f"unconfirmed names unknown fields: {unknown}")
        return self

    @property
    def law_sets_duration(self) -> bool:
        """Whether the suspension's length is fixed (no end date for the CSW to choose)."""
        low, high = self.suspension_months_bounds
        return low == high

    def is_eligible(self, category: str | None) -> bool:
        """Whether a beneficiary of this category may be proposed for suspension."""
        return category in self.eligible_categories


class ProfileFile(_ProfileFields):
    """A profile as written: ``justified_reason_codes`` may be left to the code list."""

    justified_reason_codes: list[str] | None = None


class PolicyProfile(_ProfileFields):
    """A country's activation policy, its reason codes resolved against the code list."""

    justified_reason_codes: frozenset[str] = Field(description="never count")
    unjustified_reason_codes: frozenset[str] = Field(min_length=1, description="count")

    @model_validator(mode="after")
    def _disjoint(self) -> Self:
        both = self.justified_reason_codes & self.unjustified_reason_codes
        if both:
            raise ValueError(f"reason codes both justified and unjustified: {sorted(both)}")
        return self

    def is_justified(self, reason_code: str) -> bool:
        """Whether a refusal with this reason code never counts towards a suspension."""
        return reason_code in self.justified_reason_codes


def resolve(document: ProfileFile, reasons: CodeList) -> PolicyProfile:
    """The profile with its justified codes taken from the file or else from the code list."""
    if document.justified_reason_codes is None:
        justified = {code for code, entry in reasons.codes.items() if entry.attribute("justified")}
    else:
        unknown = sorted(set(document.justified_reason_codes) - set(reasons.codes))
        if unknown:
            raise ValueError(
                f"justified_reason_codes not in the {reasons.name} code list: {unknown}"
            )
        justified = set(document.justified_reason_codes)
    fields = document.model_dump(exclude={"justified_reason_codes"})
    return PolicyProfile(
        **fields,
        justified_reason_codes=frozenset(justified),
        unjustified_reason_codes=frozenset(set(reasons.codes) - justified),
    )


def load_profile_file(
    path: Path, *, codelists: Mapping[str, CodeList] | None = None
) -> PolicyProfile:
    """Read and validate one profile file; anything wrong is a ConfigurationError naming it."""
    reasons = (codelists if codelists is not None else load_codelists())[REASON_CODE_LIST]
    try:
        document = ProfileFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        if document.code.lower() != path.stem.lower():
            raise ValueError(f"code {document.code} does not match the file name")
        return resolve(document, reasons)
    except (OSError, yaml.YAMLError, ValidationError, ValueError, KeyError) as exc:
        raise ConfigurationError(
            f"policy profile file {path.name} is malformed: {_describe(exc)}",
            hint="fix the file; hub/policy/profiles/xk.yaml shows every field",
        ) from exc


def available_profiles(directory: Path = PROFILE_DIR) -> tuple[str, ...]:
    """The codes of the shipped profiles, sorted: one ``<code>.yaml`` file each."""
    return tuple(sorted(path.stem.upper() for path in directory.glob("*.yaml")))


def load_profile(code: str) -> PolicyProfile:
    """The shipped profile of a country code (case-insensitive), or a profile file a
    deployment keeps itself (a path ending in ``.yaml``, named after its code); loaded once."""
    if code.strip().lower().endswith((".yaml", ".yml")):
        return _load_own(Path(code.strip()).resolve())
    return _load_shipped(code.strip().upper())


@cache
def _load_own(path: Path) -> PolicyProfile:
    if not path.is_file():
        raise ConfigurationError(
            f"policy profile file {path} does not exist",
            hint="set HUB_POLICY_PROFILE to a shipped code ("
            + ", ".join(available_profiles())
            + ") or to the path of a profile file",
        )
    return load_profile_file(path)


@cache
def _load_shipped(code: str) -> PolicyProfile:
    available = available_profiles()
    if code not in available:
        raise ConfigurationError(
            f"unknown policy profile {code!r}",
            hint=f"available profiles: {', '.join(available)}",
        )
    return load_profile_file(PROFILE_DIR / f"{code.lower()}.yaml")


def _describe(exc: Exception) -> str:
    """A short reason: field paths and messages for validation errors."""
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'file'}: {error['msg']}"
            for error in exc.errors()
        )
    return str(exc)
