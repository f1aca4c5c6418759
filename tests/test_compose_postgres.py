"""docker-compose.postgres.yml: PostgreSQL and two instances, as README documents it."""

from __future__ import annotations

from typing import Any

import yaml

from tests.helpers import ROOT


def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.postgres.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_two_instances_share_one_postgres_and_split_the_roles() -> None:
    services = compose()["services"]
    assert services["postgres"]["image"] == "postgres:15"
    instances = {name: s for name, s in services.items() if name.startswith("mirsad-")}
    assert len(instances) == 2
    roles = {name: s["command"][s["command"].index("--roles") + 1] for name, s in instances.items()}
    assert roles == {"mirsad-1": "poll,deliver,commands", "mirsad-2": "poll,deliver"}
    for service in instances.values():
        url = service["environment"]["MIRSAD_DATABASE_URL"]
        assert url.startswith("postgresql+asyncpg://mirsad:${POSTGRES_PASSWORD")
        assert url.endswith("@postgres:5432/mirsad")
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["env_file"] == ".env"


def test_no_password_or_token_is_written_in_the_file() -> None:
    text = (ROOT / "docker-compose.postgres.yml").read_text(encoding="utf-8")
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD" in text
    env_example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert "\nPOSTGRES_PASSWORD=\n" in env_example
