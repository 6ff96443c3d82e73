"""The editor pages' language: locale choice, localised dates and numbers, Turkish-aware sorting and search."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask, render_template_string
from flask_babel import gettext

from shared.i18n import collation_key, init_i18n, label, language_name, lower, search_fold, select_locale, sort_by_name


def _app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "s"
    import flask_login

    manager = flask_login.LoginManager(app)
    manager.user_loader(lambda token: None)  # nobody is logged in unless a test logs someone in
    init_i18n(app)
    return app


@pytest.mark.parametrize("header, expected", [
    ("tr-TR,tr;q=0.9,en;q=0.5", "tr"), ("ru", "ru"), ("de-DE,ru;q=0.7,en;q=0.3", "ru"),
    ("de, fr", "en"), ("", "en"), ("en-GB,tr;q=0.8", "en"),
])
def test_the_browser_language_is_the_best_match_among_en_tr_ru(header, expected):
    with _app().test_request_context(headers={"Accept-Language": header} if header else {}):
        assert select_locale() == expected


def test_the_editors_own_setting_wins_over_the_browser():
    import flask_login

    from shared.auth import SessionUser

    app = _app()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        flask_login.login_user(SessionUser("token", "e@example.org", "E", "editor", language="ru"))
        assert select_locale() == "ru"
        assert gettext("Articles") == "Статьи"
    with app.test_request_context(headers={"Accept-Language": "tr"}):
        flask_login.login_user(SessionUser("token", "e@example.org", "E", "editor", language=None))
        assert select_locale() == "tr" and gettext("Log out") == "Çıkış yap"


def test_dates_numbers_relative_times_labels_and_language_names_follow_the_locale():
    when = datetime(2026, 12, 1, 9, 5, tzinfo=timezone.utc)
    template = '{{ when|datetime("medium") }}|{{ 12345|number }}|{{ ago_value|ago }}|{{ "in_review"|label }}|{{ "tr"|language_name }}'
    ago_value = datetime.now(timezone.utc) - timedelta(hours=3, minutes=1)
    app = _app()
    seen = {}
    for lang in ("en", "tr", "ru"):
        with app.test_request_context(headers={"Accept-Language": lang}):
            seen[lang] = render_template_string(template, when=when, ago_value=ago_value).split("|")
    assert seen["en"] == ["Dec 1, 2026, 9:05:00\u202fAM", "12,345", "3 hours ago", "in review", "Turkish"]
    assert seen["tr"] == ["1 Ara 2026 09:05:00", "12.345", "3 saat önce", "incelemede", "Türkçe"]
    assert seen["ru"] == ["1 дек. 2026\u202fг., 09:05:00", "12\xa0345", "3 часа назад", "на проверке", "турецкий"]


def test_unknown_codes_are_shown_as_they_are():
    with _app().test_request_context():
        assert label("some_new_state") == "some_new_state" and label(None) == ""
        assert language_name("xx-not-a-language") == "xx-not-a-language"


def test_turkish_lower_case_keeps_dotted_and_dotless_i_apart():
    assert lower("IŞIK İZMİR", "tr") == "ışık izmir"
    assert lower("IŞIK İZMİR", "en") != "ışık izmir"


def test_turkish_names_sort_in_the_turkish_alphabet():
    names = ["Zeynep", "Ömer", "Işık", "İnci", "Ilgaz", "Çağla", "Cem", "Şule", "Sema", "Uğur", "Ümit", "Oya",
             "ıhlamur", "ince", "Gül", "Ğ", "Hakan"]
    ordered = sorted(names, key=lambda n: collation_key(n, "tr"))
    assert ordered == ["Cem", "Çağla", "Gül", "Ğ", "Hakan", "ıhlamur", "Ilgaz", "Işık", "ince", "İnci", "Oya", "Ömer",
                       "Sema", "Şule", "Uğur", "Ümit", "Zeynep"]


def test_plain_code_point_order_would_get_turkish_wrong():
    names = ["Çağla", "Zeynep", "İnci", "Işık"]
    assert sorted(names) == ["Işık", "Zeynep", "Çağla", "İnci"]  # what the fix is for
    assert sorted(names, key=lambda n: collation_key(n, "tr")) == ["Çağla", "Işık", "İnci", "Zeynep"]


def test_russian_puts_yo_after_ye_and_other_languages_ignore_case_and_accents():
    assert sorted(["Жуков", "Ёлкин", "Елисеев", "Ершов"], key=lambda n: collation_key(n, "ru")) == [
        "Елисеев", "Ершов", "Ёлкин", "Жуков"]
    assert sorted(["emile", "Zola", "Émile", "adam"], key=lambda n: collation_key(n, "en")) == [
        "adam", "emile", "Émile", "Zola"]


def test_sort_by_name_uses_the_editors_language():
    rows = [{"name": "Işık"}, {"name": "İnci"}, {"name": "Hakan"}]
    with _app().test_request_context(headers={"Accept-Language": "tr"}):
        assert [r["name"] for r in sort_by_name(rows, lambda r: r["name"])] == ["Hakan", "Işık", "İnci"]


@pytest.mark.parametrize("query, text", [
    ("istanbul", "İSTANBUL'DA ENERJİ"), ("ISTANBUL", "İstanbul"), ("ılık", "ILIK BİR RÜZGÂR"),
    ("ırak", "Irak ve İran"), ("энергия", "ЭНЕРГИЯ Каспия"),
])
def test_search_matches_whatever_the_casing_of_i(query, text):
    assert search_fold(query) in search_fold(text)


def test_search_still_tells_different_words_apart():
    assert search_fold("kara") not in search_fold("Karşı")
