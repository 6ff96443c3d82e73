"""Forms of the translator dashboard."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField
from wtforms.validators import Optional


class RequestForm(FlaskForm):
    """Ask a translator (by email) or a vendor for one language, with a due date."""

    lang = SelectField(_l("Language"))
    translator = EmailField(_l("Translator's email"))
    vendor = StringField(_l("Vendor name"))
    due_at = DateField(_l("Due date"), validators=[Optional()])
