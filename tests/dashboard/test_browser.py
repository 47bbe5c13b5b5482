"""The pages in a real headless Chromium (Debian's), on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from certkit.dashboard import ingest, synthetic
from certkit.dashboard.db import open_database
from tests.dashboard.conftest import audit_sample
from tests.dashboard.services import DashboardServer, chromium_driver, fresh_database

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "reports"
HOSTILE_DRIVER = "evil.<script>alert(\"pwned\")</script>'\"Driver"
HOSTILE_MESSAGE = "</td><script>document.title='pwned'</script><b onmouseover=alert(1)>x</b>"
LONG_MESSAGE = ("share did not reach status available: " + "/export/" + "x" * 3000 +
                " (timed out after 300 s)")
DOC_IMAGES = ROOT / "docs" / "dashboard" / "img"


def seed(url: str) -> None:
    """Two vendors' back ends with history, an audit of the same release, one hostile back end."""
    sessions = open_database(url)
    now = datetime.now(timezone.utc)
    with sessions() as session:
        ingest.store_profile(session, {"name": "acme-nfs", "vendor": "Acme", "protocols": ["NFS"],
                                       "driver": "acme.manila.AcmeShareDriver",
                                       "features": ["share", "extend", "shrink", "snapshot", "backup"],
                                       "maintainers": [{"name": "Ann Acme"}],
                                       "ci": {"account": "acme-ci"}})
        ingest.store_profile(session, {"name": "zeta-cifs", "vendor": "Zeta", "protocols": ["CIFS"],
                                       "driver": HOSTILE_DRIVER, "features": ["share"]})
    for report in synthetic.history("acme-nfs", 8, days=10, driver="acme.manila.AcmeShareDriver",
                                    vendor="Acme", features=["share", "extend", "shrink", "snapshot"]):
        with sessions() as session:
            ingest.store_report(session, report, "acme-ci")
    hostile = synthetic.report("zeta-cifs", "0000beef", vendor="Zeta", driver=HOSTILE_DRIVER,
                               features=["share"], failing={0: HOSTILE_MESSAGE},
                               started_at=now - timedelta(hours=2))
    audit = audit_sample()
    with sessions() as session:
        ingest.store_report(session, hostile, "zeta-ci")
        ingest.store_audit(session, audit)
        ingest.store_profile(session, {
            "name": "omega-nfs", "vendor": "Omega", "protocols": ["NFS", "CIFS"],
            "driver": "omega.manila.OmegaDriver", "features": ["share", "snapshot", "extend"],
            "access_types": {"NFS": ["ip"], "CIFS": ["user"]}, "access_levels": ["rw", "ro"],
            "driver_handles_share_servers": [True, False], "ci": {"account": "omega-ci"}})
        ingest.store_profile(session, {"name": "quiet-nfs", "vendor": "Quiet", "protocols": ["NFS"],
                                       "driver": "quiet.Driver", "features": ["share"],
                                       "ci": {"account": "quiet-ci"}})
        ingest.store_ci_vote(session, {
            "source": "gerrit", "account": "omega-ci", "project": "openstack/manila",
            "change": 912345, "patchset": 3, "verified": -1,
            "seen_at": (now - timedelta(hours=3)).isoformat()})
    # omega-nfs: certified, then a regression whose message is far wider than a screen.
    for i, failing in enumerate([None, None, {1: LONG_MESSAGE, 4: "snapshot stuck in creating"}]):
        report = synthetic.report("omega-nfs", f"0000c0{i:02d}", vendor="Omega",
                                  driver="omega.manila.OmegaDriver", checks=9,
                                  features=["share", "snapshot", "extend", "access_ip"],
                                  failing=failing, started_at=now - timedelta(hours=5 - i))
        with sessions() as session:
            ingest.store_report(session, report, "omega-ci")


def page_state(browser, server: DashboardServer) -> str:
    """What the browser shows and what the server logged: the message of a failed wait."""
    source = browser.page_source
    return (f"url={browser.current_url!r} title={browser.title!r}\n"
            f"page (first 1500 chars): {source[:1500]}\n"
            f"server log (last 1500 chars): {server.log_text()[-1500:]}")


def browser_died(exc: Exception) -> bool:
    """Chromium itself went away (a crashed browser or tab), as opposed to a page that is wrong."""
    text = str(exc).lower()
    return any(sign in text for sign in ("session deleted", "invalid session id", "tab crashed",
                                         "disconnected", "chrome not reachable", "renderer crashed"))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_matrix_filter_backend_plot_and_hostile_text(backend, tmp_path, request):
    """The pages in Chromium. Only a crash of Chromium itself (seen twice in CI under load: the
    session deleted, or a tab that never rendered) earns one retry with a new browser; every
    assertion about the pages is made whole on each attempt."""
    from selenium.common.exceptions import WebDriverException

    url = str(tmp_path / "dash.sqlite") if backend == "sqlite" else \
        fresh_database(request.getfixturevalue("postgres_url"))
    seed(url)
    server = DashboardServer(url).start()
    SHOTS.mkdir(exist_ok=True)
    try:
        for attempt in (1, 2):
            browser = chromium_driver()
            try:
                walk_the_pages(browser, server, backend)
                return
            except WebDriverException as exc:
                if attempt == 2 or not browser_died(exc):
                    raise
                print(f"Chromium died ({str(exc).splitlines()[0][:200]}); one retry")
            finally:
                try:
                    browser.quit()
                except WebDriverException:
                    pass
    finally:
        server.stop()


def walk_the_pages(browser, server: DashboardServer, backend: str) -> None:
    """Matrix, vendor filter, back-end page with its plot, and hostile strings shown as text."""
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    def loaded(condition) -> None:
        """Wait for the page a navigation leads to (never read the old one or a half-built one)."""
        try:
            WebDriverWait(browser, 30).until(
                lambda b: condition(b) and b.execute_script("return document.readyState") == "complete")
        except TimeoutException:
            if browser.current_url.startswith("chrome-error://") or "snap" in browser.title.lower():
                raise WebDriverException(f"tab crashed: {browser.current_url} {browser.title}") from None
            pytest.fail("the expected page never appeared within 30 s:\n" + page_state(browser, server))

    def visit(path: str, selector: str) -> None:
        browser.get(server.url + path)
        loaded(lambda b: b.find_elements(By.CSS_SELECTOR, selector))

    def fits_the_window() -> None:
        """No page grows wider than the window (long words wrap, wide tables scroll inside)."""
        wide = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, f"{browser.current_url} is {wide} px wider than the window"

    visit("/", "#summary tbody tr")
    states = {r.get_attribute("data-backend"): r.get_attribute("data-state")
              for r in browser.find_elements(By.CSS_SELECTOR, "#summary tbody tr")}
    assert states["omega-nfs"] == "failing" and states["quiet-nfs"] == "never-reported"
    assert states["acme-nfs"] in ("passing", "flaky") and states["lvm"] == "never-reported"
    first = browser.find_element(By.CSS_SELECTOR, "#summary tbody tr")
    assert first.get_attribute("data-state") == "failing"  # worst first
    omega = browser.find_element(By.CSS_SELECTOR, 'tr[data-backend="omega-nfs"]')
    assert "not certified" in omega.text and "Verified -1 on 912345,3" in omega.text
    assert "NFS: ip; CIFS: user; levels rw, ro; DHSS true and false" in omega.text
    quiet = browser.find_element(By.CSS_SELECTOR, 'tr[data-backend="quiet-nfs"]')
    assert "never reported" in quiet.text and "known for" in quiet.text
    grey, plain = (row.find_element(By.CSS_SELECTOR, "td").value_of_css_property("background-color")
                   for row in (quiet, omega))
    assert grey != plain  # greyed: never reported (and stale) rows
    fits_the_window()
    browser.save_screenshot(str(SHOTS / f"dashboard-summary-{backend}.png"))
    # The state filter is a link: no script on the page, the server filters.
    browser.find_element(By.CSS_SELECTOR, "#states li.failing a").click()
    loaded(lambda b: "state=failing" in b.current_url)
    shown = {r.get_attribute("data-backend"): r.get_attribute("data-state")
             for r in browser.find_elements(By.CSS_SELECTOR, "#summary tbody tr")}
    assert shown == {"omega-nfs": "failing", "zeta-cifs": "failing"}

    visit("/matrix?sort=state", "#matrix tbody tr")
    assert browser.find_element(By.CSS_SELECTOR, "#matrix tbody tr").get_attribute(
        "data-state") == "failing"
    row = browser.find_element(By.CSS_SELECTOR, '#matrix tr[data-backend="omega-nfs"]')
    assert "not certified" in row.find_element(By.CSS_SELECTOR, "td.verdict").text
    assert row.find_elements(By.CSS_SELECTOR, "td.cell.failed")
    fits_the_window()
    # Sticky header row and first column: scroll the matrix box, they stay at its edges.
    browser.set_window_size(800, 600)  # a laptop's half screen: the matrix overflows its box
    box = browser.find_element(By.CSS_SELECTOR, ".scroll.sticky")
    browser.execute_script("arguments[0].scrollTop = 200; arguments[0].scrollLeft = 400", box)
    edges = browser.execute_script(
        "const box = arguments[0].getBoundingClientRect();"
        "const head = document.querySelector('#matrix thead th.feat').getBoundingClientRect();"
        "const name = document.querySelector('#matrix tbody tr:last-child th')"
        "  .getBoundingClientRect();"
        "return [head.top - box.top, name.left - box.left,"
        "        arguments[0].scrollTop, arguments[0].scrollLeft]", box)
    assert abs(edges[0]) <= 1 and abs(edges[1]) <= 1 and edges[2] > 0 and edges[3] > 0, edges
    browser.save_screenshot(str(SHOTS / f"dashboard-matrix-scrolled-{backend}.png"))
    browser.set_window_size(1400, 1000)
    browser.execute_script("arguments[0].scrollTop = 0; arguments[0].scrollLeft = 0", box)
    browser.save_screenshot(str(SHOTS / f"dashboard-matrix-sorted-{backend}.png"))

    visit("/backends/omega-nfs", "#history")
    assert "failing" in browser.find_element(By.ID, "state").text
    assert browser.find_element(By.ID, "claim-access-types").text == "NFS: ip; CIFS: user"
    plot = browser.find_element(By.ID, "history")
    loaded(lambda b: b.execute_script("return arguments[0].complete", plot))
    fits_the_window()
    browser.save_screenshot(str(SHOTS / f"dashboard-failing-backend-{backend}.png"))
    visit("/runs/omega-nfs/0000c002", "#checks details")
    fits_the_window()
    details = browser.find_element(By.CSS_SELECTOR, "#checks details")
    assert not details.find_element(By.CSS_SELECTOR, ".full").is_displayed()
    details.find_element(By.CSS_SELECTOR, "summary").click()  # one click: the full text
    assert LONG_MESSAGE in details.find_element(By.CSS_SELECTOR, ".full").text
    fits_the_window()

    visit("/matrix", "#matrix tbody tr")
    rows = browser.find_elements(By.CSS_SELECTOR, "#matrix tbody tr")
    names = {r.get_attribute("data-backend") for r in rows}
    assert {"acme-nfs", "zeta-cifs", "lvm"} <= names, page_state(browser, server)
    acme = browser.find_element(By.CSS_SELECTOR, 'tr[data-backend="acme-nfs"]')
    states = {c.get_attribute("class").split()[1]
              for c in acme.find_elements(By.CSS_SELECTOR, "td.cell")}
    assert {"verified", "unverified"} <= states
    lvm = browser.find_element(By.CSS_SELECTOR, 'tr[data-backend="lvm"]')
    assert lvm.find_elements(By.CSS_SELECTOR, "td.cell.code-only")
    assert "claimed, unverified" in browser.find_element(By.CSS_SELECTOR, "dl.legend").text
    browser.save_screenshot(str(SHOTS / f"dashboard-matrix-{backend}.png"))

    Select(browser.find_element(By.NAME, "vendor")).select_by_visible_text("Acme")
    browser.find_element(By.CSS_SELECTOR, "#filters button").click()
    loaded(lambda b: "vendor=Acme" in b.current_url
           and b.find_elements(By.CSS_SELECTOR, "#matrix tbody tr"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#matrix tbody tr")
    assert [r.get_attribute("data-backend") for r in rows] == ["acme-nfs"]

    browser.find_element(By.LINK_TEXT, "acme-nfs").click()
    loaded(lambda b: b.find_elements(By.ID, "backend-name"))
    assert browser.find_element(By.ID, "backend-name").text == "acme-nfs"
    plot = browser.find_element(By.ID, "history")
    loaded(lambda b: b.execute_script("return arguments[0].complete", plot))
    assert browser.execute_script("return arguments[0].naturalWidth", plot) > 100
    assert len(browser.find_elements(By.CSS_SELECTOR, "#grid tbody tr")) == 8
    browser.save_screenshot(str(SHOTS / f"dashboard-backend-{backend}.png"))

    visit("/backends/zeta-cifs", "#driver")
    assert browser.find_element(By.ID, "driver").text == HOSTILE_DRIVER
    visit("/runs/zeta-cifs/0000beef", "#checks tr.failed td.msg")
    assert HOSTILE_MESSAGE in browser.find_element(By.CSS_SELECTOR, "#checks tr.failed td.msg").text
    assert browser.title != "pwned"
    assert not browser.find_elements(By.CSS_SELECTOR, "#checks b")
    assert browser.execute_script("return document.scripts.length") == 0
    browser.save_screenshot(str(SHOTS / f"dashboard-hostile-run-{backend}.png"))
