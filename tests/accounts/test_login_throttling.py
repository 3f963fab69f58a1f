import pytest

from tests.conftest import PASSWORD


@pytest.mark.django_db
class TestLoginThrottling:
    def login(self, client, password):
        return client.post("/login/", {"username": "acme-admin", "password": password})

    def test_it_logs_in_with_the_right_password(self, client, tenant):
        assert self.login(client, PASSWORD).status_code == 302

    def test_it_locks_a_username_out_after_repeated_failures(self, client, tenant, settings):
        statuses = [
            self.login(client, "wrong").status_code for _ in range(settings.AXES_FAILURE_LIMIT)
        ]
        # The failure that reaches the limit is already answered with the lockout.
        assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
        response = self.login(client, PASSWORD)
        assert response.status_code == 429
        assert "_auth_user_id" not in client.session

    def test_a_lockout_of_one_user_leaves_others_alone(self, client, tenant, settings):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            self.login(client, "wrong")
        other = client.post("/login/", {"username": "acme-auditor", "password": PASSWORD})
        assert other.status_code == 302

    def test_the_lockout_page_says_how_long_to_wait_and_retry_after_says_it_too(
        self, client, tenant, settings
    ):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            response = self.login(client, "wrong")
        # Cool-off 15 minutes from the attempt just made: 900 s, "15 minutes" on the page
        # (a second may pass between the attempt and the answer, hence 899).
        assert response.status_code == 429
        assert int(response["Retry-After"]) in (899, 900)
        html = response.content.decode()
        assert "Too many attempts" in html and "15 minutes" in html
        assert 'href="/static/css/app.css"' in html or "app.css" in html
        assert "Log out" not in html
