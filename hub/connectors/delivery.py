"""The write side of the connectors: what the outbox dispatcher delivers, and how.

Each registry that receives writes (EMIS, SAS, CMS) has a :class:`WriteContract`
naming its operations and their fields as its own contract does: SOAP operation
and XSD element names (camelCase) for EMIS and SAS; for CMS, operation names
over its OpenAPI paths, with body property names (snake_case). The contracts
live here, not in the registry modules, so that :data:`WRITE_OPERATIONS` and
:func:`validate_write` serve enqueue-time checks without a circular import.

A write is checked against its contract before any network call: a message that
can never be delivered fails at once with :class:`InvalidInput`. Dates may be
``date`` objects or ISO strings (the outbox stores JSON); a complex field (a
:class:`WriteRecord`, such as SAS's ``almpMeasure``) is a mapping of its own
fields. The registry's answer becomes an :class:`Acknowledgement`; a refusal
becomes :class:`RegistryRejected`, and so does an unknown person: for a delivery
that is a permanent failure for an operator to look at, not a "not found" for a
caller. Transient failures stay :class:`RegistryUnavailable`, retried by the
shared resilience within one send.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Generic, Literal, TypeVar
from urllib.parse import quote

import httpx

from hub.connectors.rest import RestConnector
from hub.connectors.soap import SoapConnector
from hub.errors import ContractViolation, InvalidInput, NotFound, RegistryRejected
from hub.log import get_logger

log = get_logger("delivery")

Outcome = Literal["applied", "duplicate"]


@dataclass(frozen=True)
class Acknowledgement:
    """A registry's answer to a delivered write."""

    registry: str
    operation: str
    idempotency_key: str
    outcome: Outcome  # applied now, or had already been applied under this key
    details: dict[str, Any]  # answer fields the hub needs, e.g. {"jobseekerId": "JS-..."}


@dataclass(frozen=True, kw_only=True)
class WriteRecord:
    """A complex field of a write: a mapping of its own fields, as the contract names them."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()

    @property
    def fields(self) -> frozenset[str]:
        """Every field the record takes."""
        return frozenset(self.required) | frozenset(self.optional)


@dataclass(frozen=True, kw_only=True)
class WriteOperation:
    """One write a registry accepts, with its fields as the contract names them."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()  # xs:date / format: date: a date or an ISO string
    repeated: tuple[str, ...] = ()  # take a list of values
    nullable: tuple[str, ...] = ()  # required, but may be null (JSON)
    details: tuple[str, ...] = ()  # answer fields handed back in Acknowledgement.details
    records: tuple[WriteRecord, ...] = ()  # complex fields, each value a mapping

    @property
    def fields(self) -> frozenset[str]:
        """Every field the operation takes."""
        return frozenset(self.required) | frozenset(self.optional)


@dataclass(frozen=True, kw_only=True)
class RestWriteOperation(WriteOperation):
    """A REST write: ``{field}`` placeholders of ``path`` are taken out of the payload."""

    method: Literal["POST", "PUT", "PATCH"]
    path: str

    @property
    def path_fields(self) -> tuple[str, ...]:
        """The payload fields that go into the path, not the body."""
        return tuple(name for _, name, _, _ in string.Formatter().parse(self.path) if name)


Op = TypeVar("Op", bound=WriteOperation)

_SCALARS = (str, int, float, Decimal, bool, date)


@dataclass(frozen=True)
class WriteContract(Generic[Op]):
    """The writes one registry accepts, and the idempotency keys it takes."""

    registry: str
    operations: tuple[Op, ...]
    key_length: tuple[int, int]

    @property
    def names(self) -> frozenset[str]:
        """The operation names."""
        return frozenset(op.name for op in self.operations)

    def prepare(
        self, operation: str, payload: Mapping[str, Any], *, idempotency_key: str | None
    ) -> tuple[Op, dict[str, Any]]:
        """The operation and its checked values (dates as ``date``); no network involved.

        Raises :class:`InvalidInput` naming the field, never its value.
        """
        spec = next((op for op in self.operations if op.name == operation), None)
        if spec is None:
            raise InvalidInput(
                f"{self.registry} has no write operation {operation!r}",
                field="operation",
                hint=f"use one of: {', '.join(sorted(self.names))}",
            )
        if idempotency_key is not None:
            self._check_key(idempotency_key)
        if not isinstance(payload, Mapping):
            raise InvalidInput(f"{operation}: the payload is not a mapping", field="payload")
        unknown = sorted(set(payload) - spec.fields)
        if unknown:
            raise InvalidInput(
                f"{self.registry}.{operation} has no field(s) {', '.join(map(str, unknown))}",
                field=f"payload.{unknown[0]}",
                hint=f"the fields are: {', '.join(sorted(spec.fields))}",
            )
        return spec, _values(spec, payload, self.registry)

    def _check_key(self, key: str) -> None:
        low, high = self.key_length
        if not isinstance(key, str) or not low <= len(key) <= high:
            raise InvalidInput(
                f"{self.registry} takes idempotency keys of {low} to {high} characters",
                field="idempotency_key",
            )


def _values(spec: WriteOperation, payload: Mapping[str, Any], registry: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in spec.required + spec.optional:
        value = payload.get(name)
        if value is None:
            if name in spec.nullable and name in payload:
                values[name] = None
            elif name in spec.required:
                raise InvalidInput(f"{registry}.{spec.name} needs {name}", field=f"payload.{name}")
            continue
        values[name] = _value(spec, name, value)
    return values


def _value(spec: WriteOperation, name: str, value: Any) -> Any:
    record = next((r for r in spec.records if r.name == name), None)
    if name in spec.repeated:
        if not isinstance(value, list | tuple):
            raise InvalidInput(f"{spec.name}: {name} must be a list", field=f"payload.{name}")
        if record is not None:
            return [
                _record(spec.name, record, item, f"payload.{name}[{i}]")
                for i, item in enumerate(value)
            ]
        return [_scalar(spec.name, spec.dates, name, item, f"payload.{name}") for item in value]
    if record is not None:
        return _record(spec.name, record, value, f"payload.{name}")
    return _scalar(spec.name, spec.dates, name, value, f"payload.{name}")


def _record(operation: str, spec: WriteRecord, value: Any, where: str) -> dict[str, Any]:
    """A complex field's checked values (dates as ``date``); names the path, never a value."""
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{operation}: {spec.name} must be a mapping", field=where)
    unknown = sorted(set(value) - spec.fields)
    if unknown:
        raise InvalidInput(
            f"{operation}: {spec.name} has no field(s) {', '.join(map(str, unknown))}",
            field=f"{where}.{unknown[0]}",
            hint=f"the fields are: {', '.join(sorted(spec.fields))}",
        )
    values: dict[str, Any] = {}
    for name in spec.required + spec.optional:
        item = value.get(name)
        if item is None:
            if name in spec.required:
                raise InvalidInput(
                    f"{operation}: {spec.name} needs {name}", field=f"{where}.{name}"
                )
            continue
        values[name] = _scalar(operation, spec.dates, name, item, f"{where}.{name}")
    return values


def _scalar(operation: str, dates: tuple[str, ...], name: str, value: Any, where: str) -> Any:
    if name in dates:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            raise InvalidInput(
                f"{operation}: {name} must be a date (YYYY-MM-DD)", field=where
            ) from None
    if not isinstance(value, _SCALARS):
        raise InvalidInput(f"{operation}: {name} must be a single value", field=where)
    return value


# ---------------------------------------------------------------- the registries' writes

EMIS_WRITES: WriteContract[WriteOperation] = WriteContract(
    registry="emis",
    key_length=(8, 128),
    operations=(
        WriteOperation(
            name="SetSocialAssistanceStatus",
            required=("personalNo", "category", "since"),
            optional=("caseNo",),
            dates=("since",),
        ),
        WriteOperation(
            name="TerminateJobseeker",
            required=("personalNo", "reason", "effectiveDate"),
            optional=("employerTin",),
            dates=("effectiveDate",),
        ),
        WriteOperation(name="MoveToEndOfOfferList", required=("personalNo", "offerId")),
        WriteOperation(
            name="SetBenefitSuspensionFlag",
            required=(
                "personalNo",
                "suspendedFrom",
                "suspendedUntil",
                "rule",
                "decisionRef",
                "certificateAction",
            ),
            dates=("suspendedFrom", "suspendedUntil"),
        ),
        WriteOperation(
            name="ClearBenefitSuspensionFlag",
            required=("personalNo", "decisionRef", "clearedOn", "reason"),
            dates=("clearedOn",),
        ),
        WriteOperation(
            name="RegisterReturneeReferral",
            required=(
                "returneeId",
                "firstName",
                "lastName",
                "birthDate",
                "sex",
                "municipalityCode",
            ),
            optional=("personalNo",),
            dates=("birthDate",),
            details=("jobseekerId",),
        ),
        WriteOperation(
            name="RecordAddressChange",
            required=("personalNo", "municipalityCode", "address", "effectiveDate"),
            dates=("effectiveDate",),
        ),
    ),
)

SAS_WRITES: WriteContract[WriteOperation] = WriteContract(
    registry="sas",
    key_length=(8, 128),
    operations=(
        WriteOperation(
            name="RecordUnemploymentCertificate",
            required=("certificateNo", "personalNo", "issuedOn", "validUntil", "status"),
            optional=("revokedOn", "revocationReason"),
            dates=("issuedOn", "validUntil", "revokedOn"),
        ),
        WriteOperation(
            name="RecordJobOfferRefusal",
            required=("offerId", "personalNo", "refusedOn", "reasonCode"),
            optional=("offerKind", "employerName", "occupationCode", "offeredOn"),
            dates=("refusedOn", "offeredOn"),
        ),
        WriteOperation(
            name="SetBenefitSuspension",
            required=("personalNo", "suspendedFrom", "suspendedUntil", "rule", "decisionRef"),
            optional=("decidedBy", "offerId"),
            repeated=("offerId",),
            dates=("suspendedFrom", "suspendedUntil"),
        ),
        WriteOperation(
            name="LiftBenefitSuspension",
            required=("personalNo", "decisionRef", "liftedOn", "reason"),
            optional=("arrearsFrom", "arrearsUntil"),
            dates=("liftedOn", "arrearsFrom", "arrearsUntil"),
        ),
        WriteOperation(
            name="RecordDeath", required=("personalNo", "dateOfDeath"), dates=("dateOfDeath",)
        ),
        WriteOperation(
            name="RecordJobseekerProfile",
            required=("personalNo", "educationLevel", "employmentStatus", "statusSince"),
            optional=("terminationReason", "profilingSegment", "almpMeasure"),
            dates=("statusSince",),
            repeated=("almpMeasure",),
            records=(
                WriteRecord(
                    name="almpMeasure",
                    required=("measureCode", "startDate"),
                    optional=("endDate",),
                    dates=("startDate", "endDate"),
                ),
            ),
        ),
        WriteOperation(
            name="RecordIncome", required=("personalNo", "employerTin", "period", "grossWage")
        ),
        WriteOperation(
            name="StopBenefits",
            required=("personalNo", "reason", "effectiveDate"),
            dates=("effectiveDate",),
        ),
        WriteOperation(
            name="RecordAddressChange",
            required=("personalNo", "municipalityCode", "address", "effectiveDate"),
            dates=("effectiveDate",),
        ),
    ),
)

CMS_WRITES: WriteContract[RestWriteOperation] = WriteContract(
    registry="cms",
    key_length=(1, 255),
    operations=(
        RestWriteOperation(
            name="RecordEmploymentRegistration",
            method="PUT",
            path="/v1/returnees/{returnee_id}/employment-registration",
            required=(
                "returnee_id",
                "emis_registered",
                "jobseeker_id",
                "employment_status",
                "as_of",
            ),
            nullable=("jobseeker_id",),
            dates=("as_of",),
        ),
        RestWriteOperation(
            name="CloseCase",
            method="POST",
            path="/v1/returnees/{returnee_id}/case-closure",
            required=("returnee_id", "reason", "effective_date"),
            dates=("effective_date",),
        ),
    ),
)

WRITE_CONTRACTS: dict[str, WriteContract[Any]] = {
    contract.registry: contract for contract in (EMIS_WRITES, SAS_WRITES, CMS_WRITES)
}

WRITE_OPERATIONS: dict[str, frozenset[str]] = {
    "emis": EMIS_WRITES.names,
    "sas": SAS_WRITES.names,
    "cms": CMS_WRITES.names,
    "tak": frozenset(),
    "cra": frozenset(),
}
"""Registry -> the operations it receives (TAK and CRA receive none)."""


def validate_write(
    registry: str,
    operation: str,
    payload: Mapping[str, Any],
    *,
    idempotency_key: str | None = None,
) -> None:
    """Raise :class:`InvalidInput` when this write could never be delivered (for enqueue time)."""
    contract = WRITE_CONTRACTS.get(registry)
    if contract is None:
        raise InvalidInput(
            f"{registry} receives no writes from the hub",
            field="registry",
            hint=f"deliver to one of: {', '.join(sorted(WRITE_CONTRACTS))}",
        )
    contract.prepare(operation, payload, idempotency_key=idempotency_key)


# ---------------------------------------------------------------- sending, per protocol


class SoapWriter(SoapConnector):
    """A SOAP connector whose registry receives writes: declare ``writes``."""

    writes: ClassVar[WriteContract[WriteOperation]]

    def send(
        self, operation: str, payload: Mapping[str, Any], *, idempotency_key: str
    ) -> Acknowledgement:
        """Deliver one write; the same key again is acknowledged as ``duplicate``."""
        spec, values = self.writes.prepare(operation, payload, idempotency_key=idempotency_key)
        answer = self._call(spec.name, idempotency_key, values)
        outcomes: dict[Any, Outcome] = {"APPLIED": "applied", "DUPLICATE": "duplicate"}
        outcome = outcomes.get(answer.get("outcome"))
        if outcome is None or answer.get("idempotencyKey") != idempotency_key:
            raise ContractViolation(
                "acknowledgement lacks a known outcome or echoes another idempotency key",
                registry=self.registry,
                operation=spec.name,
                hint="compare the registry's answer with contracts/",
            )
        return _acknowledged(self.registry, spec, idempotency_key, outcome, answer)

    def _call(self, operation: str, key: str, values: dict[str, Any]) -> dict[str, Any]:
        """Call the operation; PersonNotFound and IdempotencyConflict are rejections to act on."""
        try:
            return self.call(operation, idempotencyKey=key, **values)
        except NotFound as exc:
            code, hint = "PersonNotFound", _UNKNOWN_HINT
            cause: Exception = exc
        except RegistryRejected as exc:
            if exc.code != "IdempotencyConflict":
                raise
            code, hint, cause = exc.code, _CONFLICT_HINT, exc
        raise RegistryRejected(
            f"answered SOAP fault {code}",
            registry=self.registry,
            operation=operation,
            code=code,
            hint=hint,
        ) from cause


_UNKNOWN_HINT = (
    "the registry does not know the person or record; check it there or drop the message"
)
_CONFLICT_HINT = (
    "the idempotency key was already used for other content; compare with the earlier delivery"
)
_REFUSALS = (400, 404, 409, 422)
_REFUSAL_HINTS = {404: _UNKNOWN_HINT, 409: _CONFLICT_HINT}


class RestWriter(RestConnector):
    """A REST connector whose registry receives writes: declare ``writes``."""

    writes: ClassVar[WriteContract[RestWriteOperation]]

    def send(
        self, operation: str, payload: Mapping[str, Any], *, idempotency_key: str
    ) -> Acknowledgement:
        """Deliver one write with its ``Idempotency-Key``; a replay is ``duplicate``."""
        spec, values = self.writes.prepare(operation, payload, idempotency_key=idempotency_key)
        in_path = {name: quote(str(values.pop(name)), safe="") for name in spec.path_fields}
        response = self.transport.request(
            spec.method,
            spec.path.format(**in_path),
            operation=spec.name,
            json={name: _json(value) for name, value in values.items()},
            headers={"Idempotency-Key": idempotency_key},
            accept=_REFUSALS,
        )
        if response.status_code in _REFUSALS:
            raise self._refused(response, spec.name)
        answer = self._json(response, spec.name)
        replayed = response.headers.get("Idempotent-Replayed", "").strip().lower() == "true"
        outcome: Outcome = "duplicate" if replayed else "applied"
        return _acknowledged(self.registry, spec, idempotency_key, outcome, answer)

    def _refused(self, response: httpx.Response, operation: str) -> RegistryRejected:
        """The rejection, coded by the problem ``type`` and naming invalid inputs (no values)."""
        status = response.status_code
        code, where = _problem(response)
        code = code or f"http-{status}"
        inputs = f": {', '.join(where)}" if where else ""
        return RegistryRejected(
            f"refused the write (HTTP {status} {code}{inputs})",
            registry=self.registry,
            operation=operation,
            status=status,
            code=code,
            hint=_REFUSAL_HINTS.get(status, "fix the message content; it is never retried as is"),
        )


def _problem(response: httpx.Response) -> tuple[str, list[str]]:
    """The last segment of a problem's ``type`` and the inputs its ``errors`` point at."""
    try:
        problem = response.json()
    except ValueError:
        return "", []
    if not isinstance(problem, dict):
        return "", []
    code = str(problem.get("type") or "").rstrip("/").rsplit("/", 1)[-1]
    errors = problem.get("errors")
    where = [
        str(e.get("pointer") or e.get("parameter"))
        for e in (errors if isinstance(errors, list) else [])
        if isinstance(e, dict) and (e.get("pointer") or e.get("parameter"))
    ]
    return code, where


def _json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_json(item) for item in value]
    return value


def _acknowledged(
    registry: str,
    spec: WriteOperation,
    key: str,
    outcome: Outcome,
    answer: Mapping[str, Any],
) -> Acknowledgement:
    missing = [name for name in spec.details if answer.get(name) is None]
    if missing:
        raise ContractViolation(
            f"acknowledgement lacks {', '.join(missing)}",
            registry=registry,
            operation=spec.name,
            hint="compare the registry's answer with contracts/",
        )
    log.info("registry_write", registry=registry, operation=spec.name, outcome=outcome)
    details = {name: answer[name] for name in spec.details}
    return Acknowledgement(registry, spec.name, key, outcome, details)
