"""The ingest editor's forms, and the mapping between them and the service layer.

Forms only collect text: every rule lives in ``articles.parse_article_input`` /
``parse_article_update`` (and ``importer`` / ``wxr``), whose ``InvalidInput(field, message)`` is
put back next to the matching form field by ``attach_error``.
"""
from __future__ import annotations

import re
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from sqlalchemy.engine import Connection
from wtforms import (BooleanField, EmailField, FieldList, Form, FormField, HiddenField, PasswordField, SelectField,
                     StringField, SubmitField, TextAreaField)
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from shared.content import parse_datetime
from shared.errors import InvalidInput
from shared.i18n import language_name, sort_by_name

from . import authors as author_store
from .db import articles

BLANK_REFERENCE_ROWS = 2
REFERENCE_LABELS = {"title": _l("Title"), "source": _l("Source"), "url": _l("URL"), "accessed": _l("Date accessed"),
                    "note": _l("Note")}
REFERENCE_FIELDS = tuple(REFERENCE_LABELS)
NEW_AUTHOR = ""


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(_l("Email"), validators=[DataRequired(message=_l("Enter your email address")),
                                                Regexp(r"^[^@\s]+@[^@\s]+$",
                                                       message=_l("Enter your email address, e.g. name@example.org"))])
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Enter your password"))])


_EMAIL_RULES = [DataRequired(message=_l("Enter an email address")),
                Regexp(r"^[^@\s]+@[^@\s]+$", message=_l("Enter an email address, e.g. name@example.org"))]
_NEW_PASSWORD_RULES = [DataRequired(message=_l("Enter a new password")),
                       Length(min=10, message=_l("Use at least 10 characters"))]


class ChangePasswordForm(FlaskForm):
    """The current password and the new one, twice."""

    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(message=_l("Enter your current password"))])
    new_password = PasswordField(_l("New password (at least 10 characters)"), validators=_NEW_PASSWORD_RULES)
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(message=_l("Type the new password again")),
        EqualTo("new_password", message=_l("The two new passwords differ; type the same one twice"))])


class ResetRequestForm(FlaskForm):
    """The address a reset link should go to."""

    email = EmailField(_l("Email"), validators=_EMAIL_RULES)


class ResetPasswordForm(FlaskForm):
    """A new password, twice (the link names the account)."""

    new_password = PasswordField(_l("New password (at least 10 characters)"), validators=_NEW_PASSWORD_RULES)
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(message=_l("Type the new password again")),
        EqualTo("new_password", message=_l("The two new passwords differ; type the same one twice"))])


class NewUserForm(FlaskForm):
    """An account an admin creates."""

    email = EmailField(_l("Email"), validators=_EMAIL_RULES)
    name = StringField(_l("Name"))
    role = SelectField(_l("Role"))
    lang = SelectField(_l("Language of their emails"))
    password = PasswordField(_l("First password (at least 10 characters; they can change it)"),
                             validators=_NEW_PASSWORD_RULES)


class UserChangeForm(FlaskForm):
    """An admin's change to one account: its role, or active or not."""

    role = SelectField(_l("Role"))
    active = SelectField(_l("Account"), choices=[("1", _l("active")), ("0", _l("deactivated"))])


class ReferenceRow(Form):
    """One row of the references editor (no CSRF of its own: it lives inside the article form)."""

    title = StringField(REFERENCE_LABELS["title"])
    source = StringField(REFERENCE_LABELS["source"])
    url = StringField(REFERENCE_LABELS["url"], render_kw={"inputmode": "url", "placeholder": "https://"})
    accessed = StringField(REFERENCE_LABELS["accessed"], render_kw={"type": "date"})
    note = StringField(REFERENCE_LABELS["note"], render_kw={"placeholder": _l("e.g. Ibid.")})


class ArticleForm(FlaskForm):
    """Create or edit an article; bio fields per language are added by ``article_form``."""

    lang = SelectField(_l("Language"), validate_choice=False)
    title = StringField(_l("Title"))
    body = TextAreaField(_l("Body (Markdown; footnote markers like [1])"), render_kw={"rows": 16})
    author_id = SelectField(_l("Author"), validate_choice=False)
    author_name = StringField(_l("New author's name"))
    coauthors = TextAreaField(_l("Co-authors (one name per line, in order)"), render_kw={"rows": 3})
    references = FieldList(FormField(ReferenceRow), min_entries=1)
    tags = StringField(_l("Tags (comma-separated)"))
    categories = StringField(_l("Categories (comma-separated)"))
    translation_of = SelectField(_l("Translation of"), validate_choice=False)
    featured_image = SelectField(_l("Featured image"), validate_choice=False)
    # The revision the edit was loaded from: saving over a newer one is refused with a diff.
    base_revision = HiddenField()
    preview = SubmitField(_l("Preview"))
    add_reference = SubmitField(_l("Add a reference row"))
    save = SubmitField(_l("Save"))


class TransitionForm(FlaskForm):
    """A workflow button; ``publish_at`` is read only by the schedule button."""

    action = StringField(_l("Action"))
    publish_at = StringField(_l("Publish at (UTC)"), render_kw={"type": "datetime-local"})
    # The revision on the page the button was pressed on: approving a newer one unseen is refused.
    revision = HiddenField()


class ImportForm(FlaskForm):
    """Raw page import: pasted text or an uploaded UTF-8 file."""

    text = TextAreaField(_l("Paste the page"), render_kw={"rows": 14})
    file = FileField(_l("…or upload it as a UTF-8 text file or a saved .html page"))
    lang = SelectField(_l("Language"), validate_choice=False)
    translation_of = SelectField(_l("Translation of"), validate_choice=False)
    revise = BooleanField(_l("If this page was imported before, save it as a new revision of that article"))


class WxrForm(FlaskForm):
    """A WordPress export (WXR) file and the language of posts that name none."""

    file = FileField(_l("WordPress export file (Tools → Export, .xml)"))
    default_lang = SelectField(_l("Language of posts without a WPML/Polylang language"), validate_choice=False)
    background = BooleanField(_l("Import in the background and follow it on a job page (always for files over 1 MB)"))


class LanguageForm(FlaskForm):
    """The language of the editor pages: one of LOCALES, or empty to follow the browser."""

    language = SelectField(_l("Language of the editor pages"), validate_choice=True)


class MediaUploadForm(FlaskForm):
    """An image for the media library; alt text and caption fields per language are added by ``media_form``."""

    file = FileField(_l("Image file (JPEG, PNG, WebP or GIF)"),
                     render_kw={"accept": "image/jpeg,image/png,image/webp,image/gif"})
    credit = StringField(_l("Credit (photographer, agency, licence)"))


class MediaTextsForm(FlaskForm):
    """The alt texts, captions and credit of a library image (fields per language added by ``media_form``)."""

    credit = StringField(_l("Credit (photographer, agency, licence)"))


def media_form(cls: type, languages: tuple[str, ...], **kwargs) -> FlaskForm:
    """A media form with an alt text and a caption field per site language."""

    class _MediaForm(cls):
        pass

    for lang in languages:
        setattr(_MediaForm, f"alt_{lang}", StringField(_l("Alt text in %(language)s", language=language_name(lang))))
        setattr(_MediaForm, f"caption_{lang}", StringField(_l("Caption in %(language)s", language=language_name(lang))))
    return _MediaForm(**kwargs)


def media_texts(form: FlaskForm, languages: tuple[str, ...]) -> dict:
    """The form's texts as ``alt_<lang>``, ``caption_<lang>`` and ``credit`` (for ``media.parse_texts``)."""
    out = {"credit": form.credit.data or ""}
    for lang in languages:
        out[f"alt_{lang}"] = getattr(form, f"alt_{lang}").data or ""
        out[f"caption_{lang}"] = getattr(form, f"caption_{lang}").data or ""
    return out


def featured_choices(conn: Connection) -> list[tuple[str, str]]:
    """Library images for the featured-image select, newest first, after "none"."""
    from .media import list_images

    return [("", str(_l("— none —")))] + [
        (i["id"], f"{i['filename']} ({i['width']}×{i['height']})" + (f" – {next(iter(i['alt'].values()))}" if i["alt"] else ""))
        for i in list_images(conn, 500)]


class JobRestartForm(FlaskForm):
    """The button that starts an interrupted WordPress import job again."""


class PublishImportedForm(FlaskForm):
    """The button that publishes the approved articles of a WordPress import."""


def article_form(languages: tuple[str, ...], **kwargs) -> ArticleForm:
    """An ArticleForm with one bio field per site language."""

    class _ArticleForm(ArticleForm):
        pass

    for lang in languages:
        setattr(_ArticleForm, f"bio_{lang}", TextAreaField(_l("Author's bio in %(language)s", language=language_name(lang)),
                                                               render_kw={"rows": 3}))
    return _ArticleForm(**kwargs)


def bio_fields(form: ArticleForm, languages: tuple[str, ...]) -> list:
    """The form's bio fields in language order."""
    return [getattr(form, f"bio_{lang}") for lang in languages]


def source_choices(conn: Connection, exclude_group: str | None = None) -> list[tuple[str, str]]:
    """Translation groups by their source article's title, for a "translation of" select."""
    rows = sort_by_name(conn.execute(select(articles.c.group_id, articles.c.title, articles.c.lang)
                                     .where(articles.c.is_source.is_(True))).all(), lambda row: row.title)
    return [("", str(_l("— none: a new article —")))] + [
        (g, f"{title} ({language_name(lang)})") for g, title, lang in rows if g != exclude_group]


def author_choices(conn: Connection) -> list[tuple[str, str]]:
    """Existing authors for the author select, after a "new author" entry."""
    return [(NEW_AUTHOR, str(_l("— new author (type the name below) —")))] + [
        (str(a["id"]), a["name"]) for a in sort_by_name(author_store.list_authors(conn), lambda a: a["name"])]


def fill_from_article(form: ArticleForm, conn: Connection, article: dict, languages: tuple[str, ...]) -> None:
    """Prefill an edit form from a stored article."""
    form.base_revision.data = str(article["revision"])
    form.title.data, form.body.data = article["title"], article["body"]
    form.tags.data = ", ".join(article["tags"])
    form.categories.data = ", ".join(article.get("categories") or [])
    form.coauthors.data = "\n".join(a["name"] for a in (article.get("authors") or [])[1:])
    form.featured_image.data = article.get("featured_image") or ""
    author = article["author"]
    known = author_store.find_by_name(conn, author["name"])
    if known:
        form.author_id.data = str(known["id"])
        for lang in languages:
            getattr(form, f"bio_{lang}").data = known["bios"].get(lang, "")
    else:
        form.author_id.data, form.author_name.data = NEW_AUTHOR, author["name"]
        if author.get("bio"):
            getattr(form, f"bio_{author.get('bio_lang') or article['lang']}").data = author["bio"]
    while len(form.references):
        form.references.pop_entry()
    for ref in article["references"]:
        form.references.append_entry({k: ref.get(k) or "" for k in REFERENCE_FIELDS})
    pad_references(form)


def pad_references(form: ArticleForm, extra: int = 0) -> None:
    """Keep ``BLANK_REFERENCE_ROWS`` (plus ``extra``) empty rows at the end for new references."""
    blank = sum(1 for row in form.references if not _row_values(row))
    for _ in range(max(0, BLANK_REFERENCE_ROWS - blank) + extra):
        form.references.append_entry()


def _row_values(row) -> dict:
    return {k: (row[k].data or "").strip() for k in REFERENCE_FIELDS if (row[k].data or "").strip()}


def reference_rows(form: ArticleForm) -> tuple[list[dict], list[int]]:
    """The filled reference rows, and for each the index of its form row (blank rows are skipped)."""
    refs, rows = [], []
    for index, row in enumerate(form.references):
        values = _row_values(row)
        if values:
            refs.append(values)
            rows.append(index)
    return refs, rows


def tag_list(text: str | None) -> list[str]:
    """Comma-separated tags as a list."""
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def resolve_author(conn: Connection, form: ArticleForm, lang: str, languages: tuple[str, ...]) -> dict:
    """The article's ``{name, bio, bio_lang}`` from the chosen or new author (saving bios typed in)."""
    bios = {code: getattr(form, f"bio_{code}").data or "" for code in languages}
    if form.author_id.data:
        chosen = author_store.get_author(conn, int(form.author_id.data)) if form.author_id.data.isdigit() else None
        if chosen is None:
            raise InvalidInput("author_id", "this author no longer exists; pick another or type a new name")
        name = chosen["name"]
    else:
        name = (form.author_name.data or "").strip()
        if not name:
            raise InvalidInput("author.name", "is required: pick an author from the list or type a new author's name")
        if len(name) > 200:
            raise InvalidInput("author.name", f"is {len(name)} characters; the limit is 200")
    for code, bio in bios.items():
        if len(bio) > 5000:
            raise InvalidInput(f"author.bio.{code}", f"is {len(bio)} characters; the limit is 5000")
    author = author_store.save_author(conn, name, bios)
    return author_store.article_author(author, lang, languages)


def coauthor_list(conn: Connection, text: str | None, lang: str, languages: tuple[str, ...]) -> list[dict]:
    """Co-author names, one per line, as article authors (each with its stored bio in ``lang``)."""
    out = []
    for name in (line.strip() for line in (text or "").splitlines()):
        if not name:
            continue
        if len(name) > 200:
            raise InvalidInput("coauthors", f"{name[:20]!r}... is {len(name)} characters; a name has at most 200")
        out.append(author_store.article_author(author_store.save_author(conn, name, {}), lang, languages))
    return out


def article_data(conn: Connection, form: ArticleForm, lang: str, languages: tuple[str, ...]) -> dict:
    """The form as a ``POST /api/articles`` body (to be validated by the service layer)."""
    refs, _ = reference_rows(form)
    main = resolve_author(conn, form, lang, languages)
    return {"lang": lang, "title": form.title.data or "", "body": form.body.data or "",
            "authors": [main] + coauthor_list(conn, form.coauthors.data, lang, languages), "references": refs,
            "tags": tag_list(form.tags.data), "categories": tag_list(form.categories.data),
            "featured_image": form.featured_image.data or None}


_REF_FIELD = re.compile(r"^references\[(\d+)\](?:\.(\w+))?$")
# Service-layer field names that are not the form field's own name.
_FORM_FIELD = {"group_id": "translation_of", "author": "author_id", "author.bio_lang": "author_id",
               "author.name": "author_name", "references": "title", "authors": "coauthors"}


def _short_label(field) -> str:
    return field.label.text.split(" (")[0]


def attach_error(form: FlaskForm, exc: InvalidInput, *, lang: str | None = None,
                 rows: list[int] | None = None, fallback: str | None = None, label: bool = True) -> None:
    """Put a service-layer error next to its field: ``references[2].url`` goes to that row's URL field.

    ``rows`` maps the index of a submitted reference to its form row (blank rows are not submitted);
    errors with no matching field go next to ``fallback``, else at the top of the form. With
    ``label`` the message is prefixed by what it is about ("Reference 3 URL must be ...").
    """
    name = exc.field
    match = _REF_FIELD.match(name)
    if match:
        index, sub = int(match[1]), match[2] if match[2] in REFERENCE_FIELDS else None
        what = str(_l("Reference %(n)s", n=index + 1)) + (f" {REFERENCE_LABELS[sub]}" if sub else "")
        field = None
        if hasattr(form, "references"):
            row = rows[index] if rows and index < len(rows) else index
            field = form.references[row][sub or "title"] if row < len(form.references) else None
    elif name.startswith("authors[0]"):
        field, what = getattr(form, "author_name", None), str(_l("The author"))
    elif name.startswith("authors"):
        field, what = getattr(form, "coauthors", None), str(_l("Co-authors"))
    elif name.startswith("author.bio"):
        field = getattr(form, f"bio_{name.split('.')[2] if name.count('.') == 2 else lang}", None)
        what = str(_l("The bio"))
    else:
        field = getattr(form, _FORM_FIELD.get(name, name), None)
        what = _short_label(field) if field is not None else name
    if field is None and fallback:
        field = getattr(form, fallback)
    message = f"{what} {exc.message}" if label or match else exc.message[:1].upper() + exc.message[1:]
    if field is None:
        form.form_errors.append(message)
        return
    field.errors = list(field.errors) + [message]


def publish_at(raw: str | None, now: datetime) -> datetime:
    """A datetime-local value (read as UTC) in the future, or InvalidInput saying what to enter."""
    if not raw:
        raise InvalidInput("publish_at", "Choose the date and time to publish, e.g. 2026-12-01T09:00 (UTC)")
    value = parse_datetime(raw, "publish_at")
    if value <= now:
        raise InvalidInput("publish_at", "that time has passed; choose a time in the future (UTC), or publish now")
    return value


def uploaded_text(form: ImportForm) -> str:
    """The pasted page, else the uploaded file decoded as UTF-8; InvalidInput when neither is usable."""
    upload = form.file.data
    if upload and getattr(upload, "filename", ""):
        raw = upload.read()
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInput("file", f"the file is not UTF-8 text (byte {exc.start}); save it as UTF-8 and upload again")
    if (form.text.data or "").strip():
        return form.text.data
    raise InvalidInput("text", "Paste the article's page here, or choose a file to upload")


def group_of_article(conn: Connection, group_id: str) -> list[dict]:
    """Every language version in a translation group (for the article page's language links)."""
    rows = conn.execute(select(articles.c.id, articles.c.lang, articles.c.title, articles.c.state,
                               articles.c.is_source).where(articles.c.group_id == group_id)
                        .order_by(articles.c.lang)).mappings()
    return [dict(r) for r in rows]


def revision_of(field) -> int | None:
    """The revision number a hidden form field carries (the one the page showed), None when it carries none."""
    raw = (field.data or "").strip()
    return int(raw) if raw.isdigit() else None
