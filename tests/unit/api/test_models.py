from __future__ import annotations

from scenario_texture_upscale.api import STATUSES, Asset, Job, Quote

from .conftest import asset_json


def test_statuses() -> None:
    assert STATUSES == (
        "pending", "queued", "warming-up", "in-progress", "finalizing", "success", "failure",
        "canceled",
    )


def test_asset_from_envelope() -> None:
    asset = Asset.from_api(asset_json("asset_9"))
    assert asset.id == "asset_9"
    assert asset.url and asset.url.startswith("https://cdn.scenario.test/assets/asset_9.png?")
    assert (asset.mime_type, asset.width, asset.height, asset.size) == ("image/png", 512, 256, 1234)
    assert asset.status == "success"


def test_asset_tolerates_missing_and_odd_fields() -> None:
    asset = Asset.from_api({"asset": {"id": "a", "properties": {"width": "64", "size": None}}})
    assert (asset.id, asset.url, asset.width, asset.height) == ("a", None, 64, None)
    assert asset.size is None
    assert Asset.from_api(None).id == ""
    assert Asset.from_api({"id": "bare", "width": 3}).width == 3


def test_job_running() -> None:
    job = Job.from_api(
        {
            "job": {
                "jobId": "job_1", "jobType": "custom", "status": "in-progress", "progress": 0.42,
                "metadata": {},
                "statusHistory": [
                    {"status": "queued", "date": "2025-01-01T00:00:00Z"},
                    {"status": "in-progress", "date": "2025-01-01T00:00:05Z"},
                    {"nope": 1},
                ],
            }
        }
    )
    assert (job.job_id, job.status, job.progress, job.job_type) == (
        "job_1", "in-progress", 0.42, "custom"
    )
    assert not job.is_terminal and not job.succeeded
    assert [c.status for c in job.status_history] == ["queued", "in-progress"]
    assert job.status_history[0].date == "2025-01-01T00:00:00Z"


def test_job_success_with_assets_and_billing() -> None:
    job = Job.from_api(
        {
            "job": {
                "jobId": "job_2", "status": "success", "progress": 1,
                "metadata": {"assetIds": ["asset_a", "", 5, "asset_b"]},
                "billing": {"cuCost": 12.5},
            }
        }
    )
    assert job.succeeded and job.is_terminal
    assert job.asset_ids == ("asset_a", "asset_b")
    assert job.cost == 12.5


def test_job_failure_reason_and_hint() -> None:
    job = Job.from_api(
        {"job": {"jobId": "j", "status": "failure",
                 "metadata": {"error": "Image too large", "hint": "Use a smaller factor"}}}
    )
    assert job.is_terminal and not job.succeeded
    assert (job.error, job.hint) == ("Image too large", "Use a smaller factor")
    nested = Job.from_api({"job": {"jobId": "j", "status": "failure",
                                   "metadata": {"error": {"message": "nested"}}}})
    assert nested.error == "nested"


def test_job_tolerant_parsing() -> None:
    job = Job.from_api({"job": {"jobId": "j", "status": "FAILED", "progress": 7}})
    assert job.status == "failure" and job.progress == 1.0
    assert Job.from_api({"job": {"jobId": "j", "status": "cancelled"}}).status == "canceled"
    empty = Job.from_api({})
    assert (empty.job_id, empty.status, empty.progress, empty.asset_ids) == ("", "pending", 0.0, ())
    assert Job.from_api({"job": {"jobId": "j", "progress": "x"}}).progress == 0.0
    assert Job.from_api({"job": {"jobId": "j", "status": "mystery"}}).is_terminal is False


def test_run_cost_wins_over_billing() -> None:
    job = Job.from_api({"job": {"jobId": "j", "billing": {"cuCost": 1}}}, cost=3)
    assert job.cost == 3.0


def test_quote() -> None:
    quote = Quote.from_api(
        {"creativeUnitsCost": 20, "creativeUnitsDiscount": 2, "costDetails": {"pixels": 4}}
    )
    assert quote == Quote(cost=20.0, discount=2.0)
    assert quote is not None and quote.details == {"pixels": 4}
    assert Quote.from_api({"creativeUnitsDiscount": 1}) is None
    minimal = Quote.from_api({"creativeUnitsCost": 5})
    assert minimal is not None and minimal.discount is None and minimal.details == {}
