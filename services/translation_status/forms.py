"""Forms of the translator dashboard."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField
from wtforms.validators import Optional


class RequestForm(FlaskForm):
    """Ask a translator (by email) or a vendor for one language, with a due date."""

    lang = SelectField("Language")
    translator = EmailField("Translator's email")
    vendor = StringField("Vendor name")
    due_at = DateField("Due date", validators=[Optional()])
