"""WordPress import through the upload form of the running stack: translations land in paired groups,
published posts arrive approved and publish through the pipeline from the summary's button,
re-uploading creates nothing, and malformed XML or an entity bomb is refused next to the file field."""
from __future__ import annotations

import uuid

import pytest

from tests.helpers import wait_for
from tests.stack import ADMIN

from .conftest import FIXTURES
from .test_forms import _csrf, _doc, _error, _flashes, login

pytestmark = pytest.mark.integration


def _unique(name: str) -> bytes:
    """A fixture whose sites and guids are new to this stack (the stack is shared by the whole test session)."""
    data = (FIXTURES / name).read_bytes()
    for site in (b"steppe.example.org", b"kazan.example.net", b"aral.example.com"):
        data = data.replace(site, f"s{uuid.uuid4().hex[:8]}.example.org".encode())
    return data


def _upload(session, stack, data: bytes, lang: str = "en", background: bool = False, **kwargs):
    page = session.get(stack.url("ingest") + "/articles/import-wxr", timeout=5)
    form = {"csrf_token": _csrf(page), "default_lang": lang, **({"background": "y"} if background else {})}
    return session.post(stack.url("ingest") + "/articles/import-wxr", data=form,
                        files={"file": ("export.xml", data, "text/xml")}, timeout=30, **kwargs)


def _count(stack) -> int:
    return len(stack.api("ingest", "GET", "/api/articles?limit=500").json()["articles"])


def test_wxr_upload_pairs_translations_and_reimport_creates_nothing(stack):
    admin = login(stack, *ADMIN)
    export = _unique("wxr-wpml.xml")
    first = _upload(admin, stack, export)
    assert first.status_code == 200, _error(first, "file")
    assert any("WordPress import: 4 created" in f for f in _flashes(first))
    doc = _doc(first)
    rows = {r.xpath("string(td[1])"): (r.xpath("string(td[2])"), r.xpath("string(td[4])"))
            for r in doc.xpath("//table[@id='created']/tbody/tr")}
    # Languages by name and states by label, as the (English) editor reads them.
    assert rows == {"Caspian Pipelines After the War": ("English", "approved"),
                    "Savaştan Sonra Hazar Boru Hatları": ("Turkish", "in review"),
                    "Water and Diplomacy in Central Asia": ("English", "approved"),
                    "Вода и дипломатия в Центральной Азии": ("Russian", "draft")}
    assert len(doc.xpath("//ul[@id='skipped']/li")) == 3
    ids = {r.xpath("string(td[1])"): r.xpath("string(td[1]/a/@href)").rsplit("/", 1)[1]
           for r in doc.xpath("//table[@id='created']/tbody/tr")}
    articles = {title: stack.api("ingest", "GET", f"/api/articles/{i}").json() for title, i in ids.items()}
    caspian_en, caspian_tr = articles["Caspian Pipelines After the War"], articles["Savaştan Sonra Hazar Boru Hatları"]
    assert caspian_en["group_id"] == caspian_tr["group_id"] and caspian_en["is_source"] and not caspian_tr["is_source"]
    water = articles["Water and Diplomacy in Central Asia"]
    assert water["group_id"] == articles["Вода и дипломатия в Центральной Азии"]["group_id"] != caspian_en["group_id"]
    assert "WordPress post 101" in caspian_en["audit"][0]["note"]
    assert caspian_en["author"]["name"] == "Aylin Demir" and caspian_en["tags"] == ["Caspian"]
    assert caspian_en["categories"] == ["Energy"] and caspian_en["authors"] == [caspian_en["author"]]

    before = _count(stack)
    again = _upload(admin, stack, export)
    assert again.status_code == 200 and any("WordPress import: 0 created, 4 already imported" in f for f in _flashes(again))
    assert _count(stack) == before

    publish = _doc(first).xpath("//form[contains(@action, '/import-wxr/publish')]")[0]
    values = publish.form_values()
    assert sorted(v for k, v in values if k == "article_id") == sorted([caspian_en["id"], water["id"]])
    done = admin.post(stack.url("ingest") + publish.get("action"), data=values, timeout=10)
    assert any("Publishing 2 imported articles" in f for f in _flashes(done))
    for article_id in (caspian_en["id"], water["id"]):
        wait_for(lambda: stack.api("ingest", "GET", f"/api/articles/{article_id}").json()["state"] == "published",
                 timeout=30, message="imported article published")
    live = stack.api("ingest", "GET", f"/api/articles/{caspian_en['id']}").json()
    assert [e["action"] for e in live["audit"]] == ["create", "submit", "approve", "publish", "rendered"]


def test_polylang_export_pairs_by_post_translations(stack):
    admin = login(stack, *ADMIN)
    resp = _upload(admin, stack, _unique("wxr-polylang.xml"))
    assert resp.status_code == 200
    links = [a.rsplit("/", 1)[1] for a in _doc(resp).xpath("//table[@id='created']//a/@href")]
    en, tr = (stack.api("ingest", "GET", f"/api/articles/{i}").json() for i in links)
    assert (en["lang"], tr["lang"]) == ("en", "tr") and en["group_id"] == tr["group_id"] and en["is_source"]
    assert "language 'de' is not a site language" in _doc(resp).xpath("string(//ul[@id='skipped'])")


@pytest.mark.parametrize("name, words", [("wxr-truncated.xml", "not well-formed XML"), ("wxr-bomb.xml", "entities")])
def test_bad_xml_is_refused_next_to_the_file_field(stack, name, words):
    admin = login(stack, *ADMIN)
    before = _count(stack)
    resp = _upload(admin, stack, _unique(name))
    assert resp.status_code == 422 and words in _error(resp, "file")
    assert _count(stack) == before


def test_the_form_asks_for_a_file(stack):
    admin = login(stack, *ADMIN)
    page = admin.get(stack.url("ingest") + "/articles/import-wxr", timeout=5)
    resp = admin.post(stack.url("ingest") + "/articles/import-wxr", data={"csrf_token": _csrf(page), "default_lang": "en"},
                      timeout=5)
    assert resp.status_code == 422 and "Choose the .xml file" in _error(resp, "file")


def test_a_messy_export_imports_with_a_per_post_report(stack):
    admin = login(stack, *ADMIN)
    resp = _upload(admin, stack, _unique("wxr-polylang-messy.xml"))
    assert resp.status_code == 200
    assert any("WordPress import: 7 created, 0 already imported, 0 skipped, 1 failed" in f for f in _flashes(resp))
    doc = _doc(resp)
    failed = [[td.text_content() for td in r.xpath("td")] for r in doc.xpath("//table[@id='failed']/tbody/tr")]
    assert len(failed) == 1 and failed[0][2] == "title" and "title in WordPress" in failed[0][4]
    rows = {r.xpath("string(td[1])"): (r.xpath("string(td[4])"), r.xpath("string(td[5])"), r.xpath("string(td[6])"))
            for r in doc.xpath("//table[@id='created']/tbody/tr")}
    assert rows["Зерновые коридоры на Волге"][0] == "draft" and "no body" in rows["Зерновые коридоры на Волге"][2]
    assert rows["Ports of the Caspian North"][1] == "polylang term"
    assert "malformed serialized data" in rows["Ports of the Caspian North"][2]


def test_a_background_upload_runs_as_a_job_on_the_worker(stack):
    admin = login(stack, *ADMIN)
    export = _unique("wxr-coauthors.xml")
    resp = _upload(admin, stack, export, background=True, allow_redirects=False)
    assert resp.status_code == 303 and "/articles/import-wxr/jobs/" in resp.headers["Location"]
    job_url = stack.url("ingest") + resp.headers["Location"]
    job_id = job_url.rsplit("/", 1)[1]
    stored = stack.api("ingest", "GET", f"/api/wxr-jobs/{job_id}")
    assert stored.status_code == 200, "the job row is committed before the task is sent"

    def finished():
        return stack.api("ingest", "GET", f"/api/wxr-jobs/{job_id}").json()["status"] == "done"

    wait_for(finished, timeout=60, message="the ingest worker ran the import job")
    page = admin.get(job_url, timeout=5)
    doc = _doc(page)
    assert "done" in doc.xpath("string(//p[@id='status'])") and not doc.xpath("//meta[@http-equiv='refresh']")
    assert "2 created, 0 already imported, 0 skipped, 0 failed" in doc.xpath("string(//p[@id='counts'])")
    link = doc.xpath("//table[@id='created']/tbody/tr[1]/td[1]/a/@href")[0]
    article = stack.api("ingest", "GET", f"/api/articles/{link.rsplit('/', 1)[1]}").json()
    assert [a["name"] for a in article["authors"]] == ["Dina Sarsenova", "Oleg Kim", "Saule Akhmet"]
    assert article["author"]["name"] == "Dina Sarsenova" and article["categories"] == ["Environment", "Analysis"]

    again = _upload(admin, stack, export, background=True)
    assert again.status_code == 200 and "/jobs/" in again.url
    job_id = again.url.rsplit("/", 1)[1]
    wait_for(lambda: stack.api("ingest", "GET", f"/api/wxr-jobs/{job_id}").json()["status"] == "done",
             timeout=60, message="the second job ran")
    second = stack.api("ingest", "GET", f"/api/wxr-jobs/{job_id}").json()
    assert second["counts"] == {"created": 0, "already_imported": 2, "skipped": 0, "failed": 0}


def test_a_running_job_page_refreshes_itself(stack):
    admin = login(stack, *ADMIN)
    stack.stop("ingest_worker")
    try:
        resp = _upload(admin, stack, _unique("wxr-wpml.xml"), background=True)
        doc = _doc(resp)
        assert doc.xpath("//meta[@http-equiv='refresh']") and "queued" in doc.xpath("string(//p[@id='status'])")
    finally:
        stack.start("ingest_worker")
    job_id = resp.url.rsplit("/", 1)[1]
    wait_for(lambda: stack.api("ingest", "GET", f"/api/wxr-jobs/{job_id}").json()["status"] == "done",
             timeout=90, message="the restarted worker took the queued job")


def test_an_upload_larger_than_the_api_body_limit_becomes_a_job(stack, tmp_path):
    from bench.wxr_import import generate

    path = tmp_path / "big.xml"
    size = generate(path, 600, 400)
    assert size > stack.settings.max_body_bytes, "bigger than any other request may be"
    admin = login(stack, *ADMIN)
    resp = _upload(admin, stack, path.read_bytes(), allow_redirects=False)
    assert resp.status_code == 303, resp.text[:500]
    job_id = resp.headers["Location"].rsplit("/", 1)[1]
    wait_for(lambda: stack.api("ingest", "GET", f"/api/wxr-jobs/{job_id}").json()["status"] == "done",
             timeout=240, message="the 600-post job finished")
    job = stack.api("ingest", "GET", f"/api/wxr-jobs/{job_id}").json()
    assert job["counts"] == {"created": 600, "already_imported": 0, "skipped": 0, "failed": 0} and job["total"] == 600
    assert job["report"][0]["group_method"] == "polylang term"
    page = _doc(admin.get(stack.url("ingest") + f"/articles/import-wxr/jobs/{job_id}", timeout=10))
    assert page.xpath("string(//progress/@value)") == "600" and len(page.xpath("//table[@id='created']/tbody/tr")) == 500
    assert page.xpath("//a[contains(@href, 'page=2')]"), "the report pages by 500 posts"
