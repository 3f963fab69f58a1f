"""The dashboard's filters: a value that is not valid is named on the page, never ignored
silently (the page then shows the default the message names)."""

import pytest


def warnings_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"] if m.level_tag == "warning"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "warning"),
    [
        ("period=last-decade", "The period 'last-decade' is not one of the choices; "
         "showing the last 12 months instead."),
        ("start=2026-05-01&end=2026-04-01", "From 2026-05-01 to 2026-04-01 is not a period "
         "(two dates, YYYY-MM-DD, the first before the second, from 2000 to 2100); showing "
         "the last 12 months instead."),
        ("start=yesterday", "From yesterday to ? is not a period (two dates, YYYY-MM-DD, the "
         "first before the second, from 2000 to 2100); showing the last 12 months instead."),
        ("start=9999-12-01&end=9999-12-31", "From 9999-12-01 to 9999-12-31 is not a period "
         "(two dates, YYYY-MM-DD, the first before the second, from 2000 to 2100); showing "
         "the last 12 months instead."),
        ("team=research", "The team 'research' is not one of the choices; showing every team "
         "instead."),
        ("scope=scope9", "The scope 'scope9' is not one of the choices; showing every scope "
         "instead."),
    ],
)  # fmt: skip
def test_a_bad_filter_value_is_named_on_the_page(tenant, query, warning):
    for path in ("/", "/data/"):
        response = tenant.client_for("admin").get(f"{path}?{query}")
        assert response.status_code == 200
        assert warnings_of(response) == [warning]
        assert warning.replace("'", "&#x27;") in response.content.decode()


@pytest.mark.django_db
def test_valid_filters_say_nothing(tenant):
    team = tenant.teams["research"].id
    query = f"period=ytd&team={team}&scope=scope2&start=&end="
    assert warnings_of(tenant.client_for("admin").get(f"/?{query}")) == []
    custom = "start=2026-01-01&end=2026-04-01"
    assert warnings_of(tenant.client_for("admin").get(f"/?{custom}")) == []
