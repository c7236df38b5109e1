"""contracts/hub-openapi.yaml is what the code serves: a drift fails here."""

from __future__ import annotations

import yaml
from typer.testing import CliRunner

from hub.api.contract import CONTRACT_FILE, openapi_document
from hub.cli.main import app
from tests.api.conftest import Hub

DOCUMENTED = {
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/v1/persons/{personal_no}/social-assistance"),
    ("get", "/v1/persons/{personal_no}/unemployment-certificate"),
    ("get", "/v1/persons/{personal_no}"),
    ("post", "/v1/reconciliations"),
    ("get", "/v1/reconciliations/{run_id}"),
    ("get", "/v1/reconciliations/{run_id}/findings"),
    ("post", "/v1/reconciliations/{run_id}/findings/{finding_id}/apply"),
    ("get", "/v1/syncs"),
    ("post", "/v1/syncs/{flow}/runs"),
    ("get", "/v1/outbox"),
    ("post", "/v1/outbox/{message_id}/retry"),
    ("get", "/v1/jobs"),
    ("get", "/v1/jobs/{job_id}"),
    ("get", "/v1/suspension-proposals"),
    ("get", "/v1/suspensions/{suspension_id}"),
    ("post", "/v1/suspensions/{suspension_id}/confirm"),
    ("post", "/v1/suspensions/{suspension_id}/reject"),
    ("post", "/v1/suspensions/{suspension_id}/hold"),
    ("post", "/v1/suspensions/{suspension_id}/appeals"),
    ("get", "/v1/appeals"),
    ("post", "/v1/appeals/{appeal_id}/decision"),
    ("get", "/v1/persons/{personal_no}/refusals"),
}


def _committed() -> dict[str, object]:
    document: dict[str, object] = yaml.safe_load(CONTRACT_FILE.read_text(encoding="utf-8"))
    return document


def test_the_committed_contract_is_what_the_code_generates() -> None:
    assert _committed() == openapi_document(), (
        "contracts/hub-openapi.yaml and the code differ: if the change is deliberate, run "
        "`hub openapi --out contracts/hub-openapi.yaml` and commit the file"
    )


def test_the_contract_documents_every_endpoint_of_the_issue() -> None:
    paths = _committed()["paths"]
    assert isinstance(paths, dict)
    operations = {(method, path) for path, item in paths.items() for method in item}
    assert operations == DOCUMENTED


def test_the_running_server_serves_the_committed_contract(hub: Hub) -> None:
    with hub.client() as client:
        served = client.get("/openapi.json").json()
    assert served == _committed()


def test_every_v1_route_documents_its_problems_and_the_bearer_scheme() -> None:
    paths = _committed()["paths"]
    assert isinstance(paths, dict)
    for path, item in paths.items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in item.items():
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
            assert operation.get("security") == [{"HTTPBearer": []}], (method, path)


def test_hub_openapi_prints_the_contract() -> None:
    result = CliRunner().invoke(app, ["openapi"])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.output) == _committed()
