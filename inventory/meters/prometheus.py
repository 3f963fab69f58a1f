"""The Prometheus HTTP API's range query, over `requests` (plain JSON over HTTP)."""

from dataclasses import dataclass
from datetime import datetime

import requests

from greenai_portal.errors import ApplicationError

TIMEOUT_S = 30


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    # (evaluation time, value) pairs
    points: list[tuple[datetime, float]]


def range_query(
    *, url: str, token: str, query: str, start: datetime, end: datetime, step_s: int
) -> list[Series]:
    """`query` evaluated at start, start + step, … end (GET /api/v1/query_range)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    params = {
        "query": query,
        "start": start.timestamp(),
        "end": end.timestamp(),
        "step": step_s,
    }
    try:
        response = requests.get(
            f"{url.rstrip('/')}/api/v1/query_range",
            params=params,
            headers=headers,
            timeout=TIMEOUT_S,
        )
        body = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ApplicationError(f"Prometheus at {url} did not answer: {error}") from error
    if response.status_code != 200 or body.get("status") != "success":
        raise ApplicationError(
            f"Prometheus at {url} refused the query ({response.status_code}): "
            f"{body.get('error', 'no error given')}"
        )
    return [
        Series(
            labels=result["metric"],
            points=[
                (datetime.fromtimestamp(t, tz=start.tzinfo), float(v)) for t, v in result["values"]
            ],
        )
        for result in body["data"]["result"]
    ]
