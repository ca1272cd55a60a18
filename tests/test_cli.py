"""The command line: schema, accounts, tokens."""


def test_db_upgrade_and_status(runner):
    assert "up to date" in runner.invoke(args=["db", "upgrade"]).output
    assert "schema is current" in runner.invoke(args=["db", "status"]).output


def test_users_create_and_tokens_create(runner, client):
    result = runner.invoke(
        args=["users", "create", "carol"], env={"PHOTOS_NEW_PASSWORD": "a long password"}
    )
    assert result.exit_code == 0 and "created user carol" in result.output
    token = runner.invoke(args=["tokens", "create", "carol"]).output.strip()
    assert token.startswith("pg_")
    assert (
        client.get("/api/photos", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )


def test_cli_errors_are_messages_not_tracebacks(runner):
    weak = runner.invoke(args=["users", "create", "dave"], env={"PHOTOS_NEW_PASSWORD": "short"})
    assert weak.exit_code != 0 and "at least 8 characters" in weak.output
    missing = runner.invoke(args=["tokens", "create", "nobody"])
    assert missing.exit_code != 0 and "no local user nobody" in missing.output


def test_relabel_explains_when_no_labeler_is_configured(runner):
    result = runner.invoke(args=["labels", "relabel", "--all"])
    assert result.exit_code != 0 and "LABELER is none" in result.output
