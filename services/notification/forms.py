"""Forms of the notification pages: subscriptions and the buttons of the delivery log."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField, widgets


class Checkboxes(SelectMultipleField):
    """A multiple choice shown as checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class SubscriptionForm(FlaskForm):
    """A webhook subscription: receiver URL, events, languages, owner."""

    url = StringField(_l("Receiver URL"))
    events = Checkboxes(_l("Events"))
    languages = Checkboxes(_l("Languages (none ticked: every language)"))
    description = TextAreaField(_l("Description"))
    owner_email = StringField(_l("Owner's email (told when the subscription is disabled)"))
    owner_lang = SelectField(_l("Owner's language"))
    enabled = BooleanField(_l("Enabled"), default=True)


class ActionForm(FlaskForm):
    """A button: only the CSRF token."""
