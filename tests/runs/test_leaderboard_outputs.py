"""Figures, the static HTML page (in a real headless browser) and record validation."""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.results.records import RunRecord, write_record
from leaderboard.aggregate import aggregate, sort_rows
from leaderboard.page import build_page
from leaderboard.figures import write_figures
from leaderboard.validate import validate_results
from tests.unit.test_leaderboard_table import make_record

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def records_for_figures() -> list[RunRecord]:
    return [
        make_record("naive", 0, 0.8, 0.1), make_record("naive", 1, 0.7, 0.2), make_record("ewc", 0, 0.85, 0.05),
        make_record("joint", 0, 0.9, None, reference=True), make_record("ewc", 0, 0.8, 0.1, order=2),
    ]


@pytest.mark.slow
def test_every_figure_is_a_valid_png_and_svg(tmp_path: Path) -> None:
    written = write_figures(records_for_figures(), tmp_path / "figs")
    stems = {p.stem for p in written}
    assert {"tasks_toy_o1", "tasks_toy_o2", "ppl_toy_o1", "ppl_toy_o2", "forgetting_vs_acc_toy"} <= stems
    assert sum(s.startswith("matrix_") for s in stems) == 5  # one heatmap per run
    for path in written:
        data = path.read_bytes()
        if path.suffix == ".png":
            assert data.startswith(PNG_SIGNATURE) and data.endswith(b"IEND\xaeB`\x82")
        else:
            assert ET.fromstring(data).tag.endswith("svg")


@pytest.mark.slow
def test_plots_command(tmp_path: Path) -> None:
    for record in records_for_figures():
        write_record(tmp_path / "results", record)
    assert main(["leaderboard", "plots", "--results", str(tmp_path / "results"), "--out", str(tmp_path / "figs")]) == 0
    assert len(list((tmp_path / "figs").glob("*.svg"))) == len(list((tmp_path / "figs").glob("*.png"))) == 10


def test_validate_recomputes_metrics_and_checks_the_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmark.results.metrics import compute_metrics

    good = make_record("naive", 0, 0.85)
    good.metrics = compute_metrics(good.measures)
    write_record(tmp_path, good)
    assert validate_results(tmp_path) == []
    assert main(["leaderboard", "validate", "--results", str(tmp_path)]) == 0
    tampered = make_record("ewc", 0, 0.85)
    tampered.metrics = dict(good.metrics, acc=0.99)
    write_record(tmp_path, tampered)
    bad_shape = json.loads(json.dumps(good.to_json()))
    bad_shape["strategy"], bad_shape["measures"]["accuracy"] = "l2sp", [[0.5, 0.5]]
    (tmp_path / "toy__o1__l2sp__s0.json").write_text(json.dumps(bad_shape))
    (tmp_path / "half.json").write_text('{"schema_version": 1, "tas')
    problems = validate_results(tmp_path)
    assert any("toy__o1__ewc__s0.json: metric 'acc' is stored as 0.99 but recomputes to 0.85" in p for p in problems)
    assert any("toy__o1__l2sp__s0.json: accuracy_matrix must be 3 rows of 2 values" in p for p in problems)
    assert any(p.startswith("half.json: not readable JSON") for p in problems)
    capsys.readouterr()
    assert main(["leaderboard", "validate", "--results", str(tmp_path)]) == 1
    assert "3 problem(s)" in capsys.readouterr().out


CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
# .ci/run installs the browser and sets this, so CI fails rather than skips if it is missing.
BROWSER_REQUIRED = os.environ.get("FORGETBENCH_REQUIRE_BROWSER") == "1"


@pytest.mark.skipif(not (CHROMIUM and DRIVER) and not BROWSER_REQUIRED,
                    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)")
def test_static_page_sorts_in_a_real_headless_browser(tmp_path: Path) -> None:
    assert CHROMIUM and DRIVER, "FORGETBENCH_REQUIRE_BROWSER=1 but chromium/chromedriver are not on PATH"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    records = records_for_figures()
    page = tmp_path / "leaderboard.html"
    page.write_text(build_page(sort_rows(aggregate(records), "acc"), records), encoding="utf-8")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        driver.set_window_size(1400, 1000)
        driver.get(page.as_uri())

        def strategies() -> list[str]:
            rows = driver.find_elements(By.CSS_SELECTOR, "#leaderboard tbody tr")
            return [row.find_elements(By.TAG_NAME, "td")[1].text.split()[0] for row in rows]

        assert strategies() == ["ewc", "naive", "joint"]
        header = driver.find_element(By.CSS_SELECTOR, '#leaderboard th[data-key="seconds"]')
        header.click()  # first click: descending
        assert strategies() == ["naive", "ewc", "joint"]  # naive 2.5 s; ewc and joint tie at 2.0 s (stable)
        header.click()  # second click: ascending
        assert strategies()[-1] == "naive"
        driver.find_element(By.CSS_SELECTOR, '#leaderboard th[data-key="strategy"]').click()
        assert strategies() == ["naive", "joint", "ewc"]  # alphabetical, descending
        assert len(driver.find_elements(By.CSS_SELECTOR, "figure svg")) >= 5
        hover = driver.find_elements(By.CSS_SELECTOR, "#leaderboard tbody td[title]")[0].get_attribute("title")
        assert "seeds" in hover and "model tiny" in hover
        assert driver.save_screenshot(str(tmp_path / "leaderboard.png"))
        assert (tmp_path / "leaderboard.png").read_bytes().startswith(PNG_SIGNATURE)
    finally:
        driver.quit()
