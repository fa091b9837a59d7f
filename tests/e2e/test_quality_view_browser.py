"""The "IMDb quality" view in a real browser (headless Chromium from the distribution, driven by
Selenium) on the real local stack, after the seed and a ratings update are loaded through it.

Logs in to Airflow with its login form, opens the view inside the Airflow UI (navigation entry and
the DAG run's tab) and each page, and checks the figures against the warehouse and that every
chart drew its data points. Screenshots go to test-artifacts/screenshots/ (kept by CI).
"""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from local_stack.airflow_api import wait_for_upload
from local_stack.demo import SEED_FILE, batches_holding, upload_file
from tests.e2e.test_pipeline import ratings_update, seed_rows, write_csv
from tests.fixtures.stack import query

pytestmark = [pytest.mark.airflow, pytest.mark.emulator, pytest.mark.postgres, pytest.mark.spark]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DAG_ID = "imdb_quality_ingest"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def loaded(stack, api, tmp_path_factory):
    """The seed, then 10 changed ratings and 5 new movies, each loaded by the run its upload triggers."""
    seed = upload_file(stack, SEED_FILE)
    seed_run = wait_for_upload(api, lambda: batches_holding(stack, seed))
    header, rows = seed_rows()
    changed, new = ratings_update(rows)
    path = write_csv(tmp_path_factory.mktemp("upload") / "ratings_update.csv", header, changed + new)
    update = upload_file(stack, path)
    update_run = wait_for_upload(api, lambda: batches_holding(stack, update))
    assert (seed_run["state"], update_run["state"]) == ("success", "success")
    # A later run may also name the seed (asset events are delivered at least once) and record it
    # `skipped`: the seed's batch is the one that loaded it.
    ((seed_batch,),) = query(
        stack,
        "select batch_id from movies.load_ledger where object_key = %s and etag = %s and status = 'loaded'",
        (seed["key"], seed["etag"]),
    )
    return {"seed_run": seed_run["dag_run_id"], "seed_batch": seed_batch, "changed": changed}


@pytest.fixture(scope="module")
def browser(stack):
    """Headless Chromium logged in to Airflow through its login form."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,2200"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        driver.get(stack["airflow_url"] + "/")
        WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.NAME, "username"))
        driver.save_screenshot(str(SCREENSHOTS / "00-login.png"))
        driver.find_element(By.NAME, "username").send_keys(stack["airflow_user"])
        password = driver.find_element(By.NAME, "password")
        password.send_keys(stack["airflow_password"])
        password.send_keys(Keys.ENTER)
        WebDriverWait(driver, 60).until(lambda d: any(c["name"] == "_token" for c in d.get_cookies()))
        yield driver
    finally:
        driver.quit()


def open_page(browser, url: str, ready_css: str, screenshot: str, frame: bool = False):
    """Open `url`, (inside the UI's iframe when `frame`) wait for `ready_css`, save a screenshot."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.switch_to.default_content()
    browser.get(url)
    if frame:
        WebDriverWait(browser, 60).until(expected_conditions.frame_to_be_available_and_switch_to_it((By.TAG_NAME,
                                                                                                   "iframe")))
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, ready_css))
    browser.switch_to.default_content()
    browser.save_screenshot(str(SCREENSHOTS / screenshot))
    if frame:
        browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))


def labels_outside_their_chart(browser) -> list[str]:
    """Text of the current page's chart labels that the browser draws (partly) outside their SVG."""
    from selenium.webdriver.common.by import By

    outside = []
    for svg in browser.find_elements(By.CSS_SELECTOR, "figure.chart svg"):
        box = svg.rect
        for text in svg.find_elements(By.CSS_SELECTOR, "text"):
            label = text.rect
            if (label["x"] < box["x"] or label["y"] < box["y"] or label["x"] + label["width"] > box["x"] + box["width"]
                    or label["y"] + label["height"] > box["y"] + box["height"]):
                outside.append(text.text)
    return outside


def chart_points(browser) -> dict[str, int]:
    """Data points drawn per chart of the current page."""
    from selenium.webdriver.common.by import By

    return {
        chart.get_attribute("id"): len(chart.find_elements(By.CSS_SELECTOR, "svg .point"))
        for chart in browser.find_elements(By.CSS_SELECTOR, "figure.chart")
    }


def table_rows(browser, table_id: str) -> list[dict[str, str]]:
    from selenium.webdriver.common.by import By

    return [
        {cell.get_attribute("data-key"): cell.text for cell in row.find_elements(By.TAG_NAME, "td")}
        for row in browser.find_elements(By.CSS_SELECTOR, f"table#{table_id} tbody tr")
    ]


def number(text: str) -> int:
    return int(text.replace(",", ""))


def test_view_is_refused_without_login(stack):
    for path in ("/imdb-quality/batches", "/imdb-quality/api/batches"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(stack["airflow_url"] + path, timeout=30)
        assert refused.value.code == 401


def test_batches_page_in_the_airflow_ui_shows_the_seed_batch(stack, loaded, browser):
    url = stack["airflow_url"]
    open_page(browser, f"{url}/plugin/imdb-quality", "table#batches", "01-ui-nav-batches.png", frame=True)
    rows = {row["batch_id"]: row for row in table_rows(browser, "batches")}
    seed = rows[loaded["seed_batch"]]
    ((rows_in, rows_loaded, quarantined),) = query(
        stack, "select sum(rows_in), sum(rows_loaded), sum(rows_quarantined) from movies.load_ledger"
        " where batch_id = %s", (loaded["seed_batch"],))  # fmt: skip
    assert (number(seed["rows_in"]), number(seed["rows_loaded"]), number(seed["rows_quarantined"])) == (
        rows_in, rows_loaded, quarantined) == (1000, 999, 1)  # fmt: skip
    assert number(seed["rows_new"]) == 999 and seed["gate_verdict"] in ("passed", "warned")
    assert seed["statuses_text"] == "loaded"


def test_dag_run_tab_shows_the_runs_batch_and_links_back(stack, loaded, browser):
    from selenium.webdriver.common.by import By

    run_url = f"{stack['airflow_url']}/dags/{DAG_ID}/runs/{loaded['seed_run']}"
    open_page(browser, f"{run_url}/plugin/imdb-batch", "table#batches", "02-ui-dag-run-tab.png", frame=True)
    (row,) = table_rows(browser, "batches")
    assert row["batch_id"] == loaded["seed_batch"] and number(row["rows_loaded"]) == 999
    link = browser.find_element(By.CSS_SELECTOR, "a.run-link")
    assert link.text == loaded["seed_run"]


def test_quarantine_explorer_shows_apollo_13(stack, loaded, browser):
    url = f"{stack['airflow_url']}/imdb-quality/quarantine?batch_id={loaded['seed_batch']}"
    open_page(browser, url, "table#quarantined-rows", "03-quarantine.png")
    (row,) = table_rows(browser, "quarantined-rows")
    assert row["reasons"] == "invalid_year" and "Series_Title='Apollo 13'" in row["raw"]
    assert row["source_object"].endswith("/imdb_movies_rating.csv") and number(row["line_number"]) > 1
    assert table_rows(browser, "totals-by-reason") == [{"reason": "invalid_year", "rows": "1"}]
    assert chart_points(browser) == {"chart-quarantine-reasons": 1}


def test_trends_page_matches_the_ledger_and_draws_every_chart(stack, loaded, browser):
    open_page(browser, f"{stack['airflow_url']}/imdb-quality/trends", "table#trends", "04-trends.png")
    (today,) = [row for row in table_rows(browser, "trends") if number(row["rows_loaded"]) > 0][-1:]
    ((rows_loaded, quarantined),) = query(
        stack, "select sum(rows_loaded), sum(rows_quarantined) from movies.load_ledger"
        " where cast(created_at as date) = cast(%s as date)", (today["day"],))  # fmt: skip
    assert (number(today["rows_loaded"]), number(today["rows_quarantined"])) == (rows_loaded, quarantined)
    assert "invalid_year: 1" in today["reasons_text"]
    points = chart_points(browser)
    assert set(points) == {"chart-loaded-vs-quarantined", "chart-quarantine-by-reason", "chart-gate-failures",
                           "chart-quality-share"}  # fmt: skip
    assert all(count >= 1 for count in points.values()), points
    assert labels_outside_their_chart(browser) == []


def test_ratings_page_shows_the_top_movie_and_the_changes(stack, loaded, browser):
    open_page(browser, f"{stack['airflow_url']}/imdb-quality/ratings", "table#top-movies", "05-ratings.png")
    ((top_title, top_rating),) = query(
        stack, "select series_title, imdb_rating from movies.imdb_movies"
        " order by imdb_rating desc, no_of_votes desc, movie_id limit 1")  # fmt: skip
    first = table_rows(browser, "top-movies")[0]
    assert (first["series_title"], first["imdb_rating"]) == (top_title, str(top_rating))  # e.g. 9.2
    changed_titles = {row["Series_Title"] for row in loaded["changed"]}
    assert {row["series_title"] for row in table_rows(browser, "rating-changes")} == changed_titles
    assert {row["rating_change"] for row in table_rows(browser, "rating-changes")} == {"-0.5"}
    points = chart_points(browser)
    assert points["chart-top-movies"] == 10 and points["chart-rating-changes"] == 10
    assert points["chart-vote-changes"] == 10
    assert points["chart-top-directors"] >= 1 and points["chart-top-genres"] >= 2
    assert labels_outside_their_chart(browser) == []
