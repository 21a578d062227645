import httpx
import pytest

from support.platform import Platform


def mint(platform: Platform, role: str, name: str) -> str:
    response = httpx.post(
        platform.incidents.url + "/api/v1/tokens",
        json={"name": name, "role": role},
        headers=platform.admin(),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


@pytest.mark.parametrize("role", ["viewer", "responder", "admin"])
def test_whoami_names_the_token_and_its_role(platform: Platform, role: str) -> None:
    token = mint(platform, role, f"{role}-console")
    response = httpx.get(
        platform.incidents.url + "/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"name": f"token:{role}-console", "role": role}


def test_whoami_for_the_bootstrap_admin_and_without_a_valid_token(platform: Platform) -> None:
    url = platform.incidents.url + "/api/v1/whoami"
    assert httpx.get(url, headers=platform.admin()).json() == {"name": "admin", "role": "admin"}
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer ipt_wrong"}).status_code == 401
