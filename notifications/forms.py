from django import forms

from notifications.kinds import customer_sms_choices


class PreferencesForm(forms.Form):
    """Which updates come by SMS. Emails always go; this only switches texts."""

    sms_kinds = forms.MultipleChoiceField(
        label="Text me about",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(spec.kind.value, spec.label) for spec in customer_sms_choices()],
    )
