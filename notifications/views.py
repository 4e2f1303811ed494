"""The customer's notification preferences (/app/notifications/)."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from core.htmx import render_partial
from notifications import services
from notifications.forms import PreferencesForm
from notifications.kinds import customer_sms_choices
from project.accounts.policies import customer_required


@customer_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    preference = services.preferences_of(request.user)
    choices = customer_sms_choices()
    initial = [spec.kind.value for spec in choices if spec.kind.value not in preference.sms_muted_kinds]
    form = PreferencesForm(request.POST if request.method == "POST" else None, initial={"sms_kinds": initial})
    saved = False
    if request.method == "POST" and form.is_valid():
        preference = services.preferences_update(
            user=request.user, sms_kinds=set(form.cleaned_data["sms_kinds"])
        )
        if not request.htmx:
            messages.success(request, "Your message settings are saved.")
            return redirect("notifications:preferences")
        saved = True
    return render_partial(
        request,
        "notifications/preferences.html",
        "preferences-form",
        {
            "form": form,
            "rows": list(zip(form["sms_kinds"], choices, strict=True)),
            "preference": preference,
            "saved": saved,
            "our_number": settings.TWILIO_FROM_NUMBER,
        },
    )
