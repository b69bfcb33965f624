"""The documentation site: MkDocs builds it in strict mode (a broken link or reference fails), and it renders in a real browser."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.runs.test_leaderboard_outputs import BROWSER_REQUIRED, CHROMIUM, DRIVER

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)], cwd=ROOT, capture_output=True, text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"}, timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    return folder


def test_the_site_builds_in_strict_mode_with_every_page_and_the_api_reference(site: Path) -> None:
    assert (site / "index.html").is_file() and (site / "leaderboard" / "index.html").is_file()
    reference = (site / "reference" / "strategies" / "index.html").read_text(encoding="utf-8")
    assert "training_task" in reference and "adjust_gradients" in reference  # from the contract's docstrings
    assert (site / "results" / "figures" / "scale_default.png").is_file()  # figures travel with the pages that show them


@pytest.mark.skipif(not (CHROMIUM and DRIVER) and not BROWSER_REQUIRED,
                    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)")
def test_the_front_page_and_the_leaderboard_page_render_in_a_real_headless_browser(site: Path, tmp_path: Path) -> None:
    assert CHROMIUM and DRIVER, "FORGETBENCH_REQUIRE_BROWSER=1 but chromium/chromedriver are not on PATH"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        driver.get((site / "index.html").as_uri())
        assert "forgetbench" in driver.title
        assert driver.find_element(By.TAG_NAME, "h1").text.startswith("forgetbench documentation")
        assert len(driver.find_elements(By.CSS_SELECTOR, "nav a")) > 20  # the navigation rendered
        driver.get((site / "leaderboard" / "index.html").as_uri())
        assert driver.find_element(By.TAG_NAME, "h1").text.startswith("The leaderboard")
        assert driver.find_elements(By.CSS_SELECTOR, "article pre code")  # its commands, as code blocks
    finally:
        driver.quit()
