"""Checkpoints anchor the chain's head: a log cut short is caught, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, select
from sqlmodel import Session
from typer.testing import CliRunner

from hub.audit import service as audit
from hub.audit.anchor import Checkpoint, loads
from hub.audit.chain import entry_hash
from hub.audit.models import AuditEntry
from hub.cli.main import app
from tests.audit.test_service import _append, _env, tamper

runner = CliRunner()
KEY = "an-anchor-key-kept-by-the-operator"


def _cli(engine: Engine, *args: str, key: str = KEY) -> tuple[int, str, str]:
    result = runner.invoke(app, ["audit", *args], env={**_env(engine), "HUB_AUDIT_ANCHOR_KEY": key})
    return result.exit_code, result.stdout, result.stderr


def _checkpoint(engine: Engine, path: Path) -> dict[str, object]:
    code, _, err = _cli(engine, "checkpoint", "--out", str(path))
    assert code == 0, err
    document: dict[str, object] = json.loads(path.read_text())
    return document


def _truncate(engine: Engine, last: int) -> None:
    """Delete the last ``last`` entries: what leaves the chain itself intact."""
    tamper(
        engine,
        "DELETE FROM audit_entry WHERE id IN "
        "(SELECT id FROM audit_entry ORDER BY id DESC LIMIT :n)",
        n=last,
    )


def test_a_truncated_log_fails_verify_against_its_checkpoint(
    engine: Engine, tmp_path: Path
) -> None:
    ids = _append(engine, 1, n=8)
    head = tmp_path / "head.json"
    document = _checkpoint(engine, head)
    assert (document["last_id"], document["count"]) == (ids[-1], 8)
    _append(engine, 2, n=2)  # entries after the checkpoint keep it valid
    code, out, _ = _cli(engine, "verify", "--expect-head", str(head))
    assert code == 0, out
    assert "chain intact: 10 entries" in out
    assert f"checkpoint holds: entry {ids[-1]} is entry 8" in out

    _truncate(engine, 5)  # the 2 after the checkpoint, its head and 2 before it

    code, out, _ = _cli(engine, "verify")
    assert (code, "chain intact: 5 entries" in out) == (0, True)  # the chain alone cannot tell
    code, out, _ = _cli(engine, "verify", "--expect-head", str(head))
    assert code == 1, out
    assert out.count("\n") == 1
    assert (
        f"audit log truncated: the log ends at entry {ids[4]} with 5 entries, but the "
        f"checkpoint of" in out
    )
    assert f"anchors entry {ids[-1]} as entry 8: at least 3 entries were deleted" in out


def test_a_log_cut_short_and_written_again_fails(engine: Engine, tmp_path: Path) -> None:
    ids = _append(engine, 1, n=6)
    head = tmp_path / "head.json"
    _checkpoint(engine, head)
    _truncate(engine, 2)
    _append(engine, 3, n=3)  # the hub goes on appending: the chain is intact again

    code, out, _ = _cli(engine, "verify", "--expect-head", str(head))
    assert code == 1, out
    # SQLite gives the deleted ids out again (entry 6 differs), PostgreSQL's sequence does not
    # (entry 6 is gone and 7 follows 4)
    broken = ids[-1] if engine.dialect.name == "sqlite" else ids[-1] + 1
    assert f"chain broken at entry {broken}:" in out
    assert "cut short and written again" in out


def test_a_tail_rewritten_and_rehashed_fails_only_against_the_checkpoint(
    engine: Engine, tmp_path: Path
) -> None:
    ids = _append(engine, 1, n=5)
    head = tmp_path / "head.json"
    _checkpoint(engine, head)
    _rewrite_from(engine, ids[1], person_id=99)  # entry 2 and every later one re-hashed

    assert _cli(engine, "verify")[0] == 0  # a consistent forgery of the chain
    code, out, _ = _cli(engine, "verify", "--expect-head", str(head))
    assert code == 1, out
    assert f"chain broken at entry {ids[-1]}" in out
    assert "rewritten and re-hashed" in out


def test_an_edited_or_foreign_checkpoint_is_refused(engine: Engine, tmp_path: Path) -> None:
    _append(engine, 1, n=3)
    head = tmp_path / "head.json"
    document = _checkpoint(engine, head)
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({**document, "count": 2}))

    for path, key in ((edited, KEY), (head, "another-long-anchor-key")):
        code, out, err = _cli(engine, "verify", "--expect-head", str(path), key=key)
        assert code == 1, out
        assert "signature does not match" in err
        assert "Traceback" not in out + err


def test_checkpoint_usage_errors_are_one_line(engine: Engine, tmp_path: Path) -> None:
    _append(engine, 1, n=2)
    head = tmp_path / "head.json"
    code, _, err = _cli(engine, "checkpoint", "--out", str(head), key="")
    assert code == 3
    assert "HUB_AUDIT_ANCHOR_KEY" in err
    assert err.count("\n") == 1
    assert not head.exists()

    (tmp_path / "not.json").write_text("{ nope")
    code, _, err = _cli(engine, "verify", "--expect-head", str(tmp_path / "not.json"))
    assert code == 2
    assert "not an audit checkpoint" in err
    code, _, err = _cli(engine, "verify", "--expect-head", str(tmp_path / "missing.json"))
    assert code == 2, err
    assert "Traceback" not in err


def test_no_checkpoint_of_a_broken_or_empty_chain(engine: Engine, tmp_path: Path) -> None:
    code, out, err = _cli(engine, "checkpoint")
    assert code == 1
    assert "the audit log is empty" in err
    ids = _append(engine, 1, n=3)
    tamper(engine, "DELETE FROM audit_entry WHERE id = :id", id=ids[1])
    code, out, err = _cli(engine, "checkpoint")
    assert code == 1
    assert f"the chain is broken at entry {ids[2]}" in err
    assert out == ""


def test_checkpoint_to_stdout_verifies(engine: Engine, tmp_path: Path) -> None:
    ids = _append(engine, 1, n=4)
    code, out, _ = _cli(engine, "checkpoint")
    assert code == 0
    head = tmp_path / "head.json"
    head.write_text(out)
    with Session(engine) as session:
        result = audit.verify(session, expect=_load(head))
    assert result.ok
    assert result.anchored is not None
    assert (result.anchored.last_id, result.head_id) == (ids[-1], ids[-1])


def _load(path: Path) -> Checkpoint:
    return loads(path.read_text(), KEY)


def _rewrite_from(engine: Engine, first_id: int, *, person_id: int) -> None:
    """Alter ``first_id`` and re-hash it and every later entry: a chain that verifies."""
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = [
            dict(row)
            for row in connection.execute(
                select(table).where(table.c.id >= first_id).order_by(table.c.id)
            ).mappings()
        ]
    rows[0]["person_id"] = person_id
    previous = rows[0]["prev_hash"]
    for row in rows:
        row["prev_hash"] = previous
        previous = entry_hash(row)
        tamper(
            engine,
            "UPDATE audit_entry SET person_id = :person, prev_hash = :prev, entry_hash = :hash "
            "WHERE id = :id",
            person=row["person_id"],
            prev=row["prev_hash"],
            hash=previous,
            id=row["id"],
        )
