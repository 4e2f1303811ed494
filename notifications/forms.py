from django import forms

from notifications.kinds import Kind, customer_sms_choices
from notifications.models import Channel, Status


class PreferencesForm(forms.Form):
    """Which updates come by SMS. Emails always go; this only switches texts."""

    sms_kinds = forms.MultipleChoiceField(
        label="Text me about",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(spec.kind.value, spec.label) for spec in customer_sms_choices()],
    )


def _any(label: str, choices) -> list[tuple[str, str]]:
    return [("", label), *choices]


class OpsNotificationFilterForm(forms.Form):
    q = forms.CharField(
        label="Recipient",
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, email or phone"}),
    )
    channel = forms.ChoiceField(label="Channel", required=False, choices=_any("Any channel", Channel.choices))
    status = forms.ChoiceField(label="Status", required=False, choices=_any("Any status", Status.choices))
    kind = forms.ChoiceField(label="Kind", required=False, choices=_any("Any kind", Kind.choices))
    ride = forms.IntegerField(
        label="Ride #",
        required=False,
        min_value=1,
        widget=forms.NumberInput(attrs={"placeholder": "e.g. 12"}),
    )
