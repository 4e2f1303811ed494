from http import HTTPStatus

from allauth.account import views as allauth_views
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError, add_errors_to_form
from core.htmx import render_partial
from core.http import client_ip
from project.accounts import selectors, services, sms
from project.accounts.forms import AccountDeleteForm, PhoneCodeForm, ProfileForm
from project.accounts.models import User
from project.accounts.policies import customer_required, login_required, public


def _profile_page(
    request, *, form=None, code_form=None, phone_error="", phone_notice="", status=HTTPStatus.OK
):
    """The profile page, or for HTMX only its phone panel (the verify-your-number flow)."""
    user = request.user
    context = {
        "form": form or ProfileForm(instance=user),
        "code_form": code_form or PhoneCodeForm(),
        "phone_code": selectors.phone_code_latest(user),
        "phone_textable": sms.country_allowed(user.phone),
        "sms_countries": sms.allowed_countries_text(),
        "phone_error": phone_error,
        "phone_notice": phone_notice,
    }
    # HTMX swaps only 2xx answers: a refused code comes back as a 200 panel showing why.
    if request.htmx:
        status = HTTPStatus.OK
    return render_partial(request, "accounts/profile.html", "phone", context, status=status)


def _refused(exc: DomainError) -> HTTPStatus:
    return HTTPStatus.TOO_MANY_REQUESTS if exc.code == "rate_limited" else HTTPStatus.BAD_REQUEST


def _back_to_phone():
    return redirect(f"{reverse('accounts:profile')}#phone")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    if request.method == "POST":
        # The form edits its own copy: a refused POST leaves request.user (the phone panel,
        # the navigation) as saved.
        form = ProfileForm(request.POST, instance=User.objects.get(pk=request.user.pk))
        if form.is_valid():
            form.save()
            messages.success(request, "Your profile is saved.")
            return redirect("accounts:profile")
        return _profile_page(request, form=form)
    return _profile_page(request)


@login_required
@require_POST
def phone_code_send(request):
    """Text a code to the number on the profile (step one of verifying it)."""
    try:
        services.phone_verification_send(user=request.user, ip=client_ip(request))
    except DomainError as exc:
        return _profile_page(request, phone_error=exc.message, status=_refused(exc))
    notice = f"We are texting a code to {request.user.phone.as_national}."
    if not request.htmx:
        messages.success(request, notice)
        return _back_to_phone()
    return _profile_page(request, phone_notice=notice)


@login_required
@require_POST
def phone_verify(request):
    """The code typed back: the number is verified (step two)."""
    code_form = PhoneCodeForm(request.POST)
    if code_form.is_valid():
        try:
            services.phone_verification_confirm(user=request.user, code=code_form.cleaned_data["code"])
        except DomainError as exc:
            add_errors_to_form(code_form, exc)
            return _profile_page(request, code_form=code_form, status=_refused(exc))
        notice = "Your number is verified: ride updates now come by text too."
        if not request.htmx:
            messages.success(request, notice)
            return _back_to_phone()
        return _profile_page(request, phone_notice=notice)
    return _profile_page(request, code_form=code_form, status=HTTPStatus.BAD_REQUEST)


@login_required
@sensitive_post_parameters("password")
def email(request):
    """allauth's change-email page (ACCOUNT_CHANGE_EMAIL, our ChangeEmailForm asks for the
    current password) without its "make primary" action: a new address becomes the account's
    only through the confirmation link mailed to it."""
    if request.method == "POST" and "action_primary" in request.POST:
        messages.error(request, "Open the link we mailed to the new address: confirming it makes the change.")
        return redirect("account_email")
    return allauth_views.email(request)


@customer_required
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def account_delete(request):
    """Delete my account: what goes and what stays, then the password and a tick. Drivers and
    operations are not offered it (operations deactivate a driver)."""
    blockers = services.account_deletion_blockers(user=request.user)
    form = AccountDeleteForm(request.POST) if request.method == "POST" else AccountDeleteForm()
    status = HTTPStatus.OK
    if request.method == "POST":
        status = HTTPStatus.BAD_REQUEST
        if not blockers and form.is_valid():
            try:
                services.account_delete(user=request.user, password=form.cleaned_data["password"])
            except DomainError as exc:
                if exc.code == "conflict":
                    blockers = [exc.message]
                    status = HTTPStatus.CONFLICT
                else:
                    add_errors_to_form(form, exc)
                    status = _refused(exc)
            else:
                logout(request)
                return redirect("accounts:deleted")
        elif blockers:
            status = HTTPStatus.CONFLICT
    context = {"form": form, "blockers": blockers, "deleted_name": services.DELETED_NAME}
    return render(request, "accounts/account_delete.html", context, status=status)


@public
@require_http_methods(["GET"])
def account_deleted(request):
    """Where a deleted account's owner lands, signed out."""
    return render(request, "accounts/account_deleted.html")
